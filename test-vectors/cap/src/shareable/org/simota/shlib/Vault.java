package org.simota.shlib;

import javacard.framework.Shareable;

/** The Shareable interface a server applet hands to its clients. */
public interface Vault extends Shareable {
    /** Adds {@code by} to the server's total and remembers the caller; the new total. */
    short bump(short by);

    /** Copies the AID of the last caller into {@code buf} at {@code off}; its length. */
    short whoCalled(byte[] buf, short off);

    /** One of the server's own arrays (not for the client to read). */
    byte[] secret();
}
