package org.simota.shlib;

/** A library class: static methods other packages call, and a static counter of the package. */
public class Lib {
    private static short calls;

    /** A rolling checksum of {@code len} bytes of {@code b} from {@code off}; counts the call. */
    public static short checksum(byte[] b, short off, short len) {
        short s = 0;
        for (short i = 0; i < len; i++) {
            s = (short) ((short) (s * 31) + (b[(short) (off + i)] & 0xFF));
        }
        calls++;
        return s;
    }

    /** How many times {@link #checksum} ran (the package's static field). */
    public static short calls() {
        return calls;
    }
}
