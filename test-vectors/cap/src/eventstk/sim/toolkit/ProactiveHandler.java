package sim.toolkit;
public final class ProactiveHandler extends EditHandler {
    private ProactiveHandler() {}
    public static ProactiveHandler getTheHandler() { return null; }
    public void init(byte type, byte qualifier, byte dstDevice) {}
    public void initDisplayText(byte qualifier, byte dcs, byte[] buffer, short offset, short length) {}
    public void initGetInput(byte qualifier, byte dcs, byte[] buffer, short offset, short length, short minResp, short maxResp) {}
    public byte send() { return 0; }
}
