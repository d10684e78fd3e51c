package sim.toolkit;
public final class ToolkitRegistry {
    private ToolkitRegistry() {}
    public static ToolkitRegistry getEntry() { return null; }
    public byte initMenuEntry(byte[] menuEntry, short offset, short length, byte nextAction, boolean helpSupported, byte iconQualifier, short iconIdentifier) { return 0; }
    public void setEvent(byte event) {}
    public void clearEvent(byte event) {}
    public boolean isEventSet(byte event) { return false; }
}
