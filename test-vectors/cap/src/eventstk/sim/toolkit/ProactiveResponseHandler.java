package sim.toolkit;
public final class ProactiveResponseHandler extends ViewHandler {
    private ProactiveResponseHandler() {}
    public static ProactiveResponseHandler getTheHandler() { return null; }
    public byte getGeneralResult() { return 0; }
    public short getTextStringLength() { return 0; }
    public short copyTextString(byte[] dst, short dstOffset) { return 0; }
}
