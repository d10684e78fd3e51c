package sim.toolkit;
public abstract class EditHandler extends ViewHandler {
    EditHandler() {}
    public void clear() {}
    public void appendArray(byte[] buffer, short offset, short length) {}
    public void appendTLV(byte tag, byte[] value, short offset, short length) {}
    public void appendTLV(byte tag, byte value) {}
    public void appendTLV(byte tag, byte value1, byte value2) {}
}
