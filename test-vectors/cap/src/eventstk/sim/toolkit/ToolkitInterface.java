package sim.toolkit;
public interface ToolkitInterface extends javacard.framework.Shareable {
    void processToolkit(byte event) throws ToolkitException;
}
