/*
 * azalia.h: libazalia's entry API. Include it (it includes hdaudio.h and wdm.h) and link
 * with -lazalia (scripts/install-c.sh installs both). Every routine returns a status and never crashes on bad input: a NULL
 * pointer where one is needed is STATUS_INVALID_PARAMETER, a system handle the library did
 * not hand out (or already destroyed) is STATUS_INVALID_HANDLE.
 */
#ifndef AZALIA_H
#define AZALIA_H

#include "azalia_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Builds a system: a controller of Profile ("ich6", "ich9", "skylake-pch", "azalia-bidi")
   with the codecs on its link, and starts the bus driver on it. An unknown profile, a codec
   address out of range or used twice, or an endpoint that cannot be opened (a WAV file that
   does not read) is STATUS_INVALID_PARAMETER; a bus that does not start returns its status. */
NTSTATUS AzaliaCreateSystem(const char *Profile, const AZALIA_CODEC *Codecs, ULONG CodecCount, PAZALIA_SYSTEM *System);

/* AzaliaCreateSystem with codecs of real chips besides: Dumps[i] is a codec loaded from a
   dump file. A file that does not read as a codec dump, an address used twice, or an
   endpoint that a pin cannot have (the loopback) is STATUS_INVALID_PARAMETER. */
NTSTATUS AzaliaCreateSystemEx(const char *Profile, const AZALIA_CODEC *Codecs, ULONG CodecCount,
                              const AZALIA_DUMP_CODEC *Dumps, ULONG DumpCount, PAZALIA_SYSTEM *System);

/* Closes every interface still open, stops time and frees the system; WAV sinks are
   finished (their headers patched) here. */
NTSTATUS AzaliaDestroySystem(PAZALIA_SYSTEM System);

/* IRP_MN_QUERY_INTERFACE for the function driver of the codec at CodecAddress: fills
   Interface (HDAUDIO_BUS_INTERFACE, _V2, _V3 or _BDL, by InterfaceType) and takes one
   reference on it; the driver calls InterfaceDereference when done, and the last
   dereference closes its client as a Swift close() does. STATUS_NOT_SUPPORTED for an
   unknown GUID or a Version other than 1 or 0x0100; STATUS_INVALID_PARAMETER for a Size
   smaller than the interface's struct or an address outside 0-14. */
NTSTATUS AzaliaQueryBusInterface(PAZALIA_SYSTEM System, UCHAR CodecAddress, const GUID *InterfaceType,
                                 USHORT Size, USHORT Version, PINTERFACE Interface);

/* Moves link time forward by Frames frames (48 kHz), delivering every interrupt, event,
   callback and ISR on its frame. Deterministic. */
NTSTATUS AzaliaAdvanceFrames(PAZALIA_SYSTEM System, ULONGLONG Frames);

/* Moves link time forward by Microseconds, paced by the wall clock (in 1 ms steps), so a
   program sees time pass as on hardware. */
NTSTATUS AzaliaRunPaced(PAZALIA_SYSTEM System, ULONGLONG Microseconds);

/* The current link frame. STATUS_INVALID_PARAMETER for a NULL Frame. */
NTSTATUS AzaliaGetLinkFrame(PAZALIA_SYSTEM System, ULONGLONG *Frame);

/* Copies what DAC number Dac of the codec at CodecAddress kept in its memory sink: up to
   BufferLength bytes into Buffer (which may be NULL when BufferLength is 0); *Available
   is the total kept. STATUS_INVALID_PARAMETER when there is no such memory sink. */
NTSTATUS AzaliaReadMemorySink(PAZALIA_SYSTEM System, UCHAR CodecAddress, ULONG Dac, PVOID Buffer,
                              SIZE_T BufferLength, PSIZE_T Available);

/* Raises an unsolicited response from a node of the codec at CodecAddress (payload bits
   25:0), as a jack event would; it reaches the driver's RegisterEventCallback routine when
   the node's unsolicited responses are enabled (SET_UNSOLICITED_ENABLE) and link time moves.
   STATUS_INVALID_PARAMETER when no virtual codec is there; STATUS_UNSUCCESSFUL when the
   node's unsolicited responses are disabled (the response is dropped). */
NTSTATUS AzaliaRaiseUnsolicited(PAZALIA_SYSTEM System, UCHAR CodecAddress, UCHAR Node, ULONG Payload);

/* Injects faults into the controller (replacing those injected before; a NULL Faults or
   one all zero lifts them). They take effect at once and may change at any time, as on a
   failing machine: a handshake that does not complete makes the routine that waits for it
   STATUS_DEVICE_NOT_READY. */
NTSTATUS AzaliaSetFaults(PAZALIA_SYSTEM System, const AZALIA_FAULTS *Faults);

/* Caps the DMA memory the bus may allocate at Pages pages (4 KiB) in use at once, counting
   what is already allocated (the CORB/RIRB and position-buffer pages too); a cap below
   what is in use refuses every new allocation (STATUS_INSUFFICIENT_RESOURCES) and frees
   nothing. Pages = -1 lifts the cap; another negative value is STATUS_INVALID_PARAMETER. */
NTSTATUS AzaliaSetPageLimit(PAZALIA_SYSTEM System, LONG Pages);

/* The pages of DMA memory allocated now (to see that a refused call took none and that
   everything came back). STATUS_INVALID_PARAMETER for a NULL Pages. */
NTSTATUS AzaliaGetAllocatedPages(PAZALIA_SYSTEM System, PULONG Pages);

#ifdef __cplusplus
}
#endif

#endif /* AZALIA_H */
