#!/bin/sh
# Rebuilds simota-shlib.cap, simota-shserver.cap and simota-shclient.cap (see ../../README.md).
# SDK: a checkout of github.com/martinpaljak/oracle_javacard_sdks in $SDKS (not committed).
set -e
K=$SDKS/jc310r20210706_kit
E=$SDKS/jc310b43_kit/api_export_files_3.0.4
B=${B:-/tmp/shareable-build}
cd "$(dirname "$0")"
rm -rf "$B" && mkdir -p "$B/cls" "$B/out"
javac --release 7 -nowarn -g:none -cp "$K/lib/api_classic-3.0.4.jar" -d "$B/cls" \
  org/simota/shlib/*.java org/simota/shserver/*.java org/simota/shclient/*.java
CP="$K/lib/tools.jar:$K/lib/commons-cli-1.4.jar:$K/lib/asm-8.0.1.jar:$K/lib/json.jar:$K/lib/commons-logging-1.2-9f99a00.jar"
conv() { java -cp "$CP" com.sun.javacard.converter.Main -target 3.0.4 -classdir "$B/cls" \
  -exportpath "$E:$B/out" -d "$B/out" -nowarn "$@"; }
P=0xF0:0x73:0x69:0x6D:0x6F:0x74:0x61
conv -out CAP EXP org.simota.shlib $P:0x4C 1.0
conv -out CAP EXP -applet $P:0x53:0x01 org.simota.shserver.Server org.simota.shserver $P:0x53 1.0
conv -out CAP -applet $P:0x43:0x01 org.simota.shclient.Client org.simota.shclient $P:0x43 1.0
cp "$B/out/org/simota/shlib/javacard/shlib.cap" ../../simota-shlib.cap
cp "$B/out/org/simota/shserver/javacard/shserver.cap" ../../simota-shserver.cap
cp "$B/out/org/simota/shclient/javacard/shclient.cap" ../../simota-shclient.cap
