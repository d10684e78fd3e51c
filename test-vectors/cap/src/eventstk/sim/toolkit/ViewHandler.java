package sim.toolkit;
public abstract class ViewHandler {
    ViewHandler() {}
    public short getLength() { return 0; }
    public byte findTLV(byte tag, byte occurrence) { return 0; }
    public short getValueLength() { return 0; }
    public byte getValueByte(short valueOffset) { return 0; }
    public short copyValue(short valueOffset, byte[] dst, short dstOffset, short dstLength) { return 0; }
    public short findAndCopyValue(byte tag, byte[] dst, short dstOffset) { return 0; }
    public byte findAndCompareValue(byte tag, byte[] cmp, short cmpOffset) { return 0; }
}
