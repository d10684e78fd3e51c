package sim.toolkit;
public final class EnvelopeResponseHandler extends EditHandler {
    private EnvelopeResponseHandler() {}
    public static EnvelopeResponseHandler getTheHandler() { return null; }
    public void post(byte statusType) {}
}
