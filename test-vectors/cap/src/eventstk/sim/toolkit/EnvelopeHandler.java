package sim.toolkit;
public final class EnvelopeHandler extends ViewHandler {
    private EnvelopeHandler() {}
    public static EnvelopeHandler getTheHandler() { return null; }
    public byte getEnvelopeTag() { return 0; }
    public byte getItemIdentifier() { return 0; }
}
