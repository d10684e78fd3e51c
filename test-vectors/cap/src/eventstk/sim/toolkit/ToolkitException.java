package sim.toolkit;
public class ToolkitException extends javacard.framework.CardRuntimeException {
    public ToolkitException(short reason) { super(reason); }
    public static void throwIt(short reason) { throw new ToolkitException(reason); }
}
