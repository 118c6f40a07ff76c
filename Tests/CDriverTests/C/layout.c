/* sizeof and offsetof of every hdaudio.h struct and interface table, against the WDK's
   layout on x86-64 (LLP64: ULONG is 4 bytes, pointers 8), and the bit positions of the
   bit fields (including the unnamed padding). */
#include <stddef.h>
#include "hdaudio.h"
#include "check.h"

#define PTR(i) (16 + 8 * (i))

int main(void) {
    CHECK(sizeof(ULONG) == 4 && sizeof(LONG) == 4 && sizeof(USHORT) == 2 && sizeof(PVOID) == 8);
    CHECK(sizeof(LARGE_INTEGER) == 8 && sizeof(GUID) == 16);
    CHECK(sizeof(HDAUDIO_CODEC_COMMAND) == 4);
    CHECK(sizeof(HDAUDIO_CODEC_RESPONSE) == 8);
    CHECK(sizeof(HDAUDIO_CODEC_TRANSFER) == 16);
    CHECK(offsetof(HDAUDIO_CODEC_TRANSFER, Output) == 0 && offsetof(HDAUDIO_CODEC_TRANSFER, Input) == 8);
    CHECK(sizeof(HDAUDIO_STREAM_FORMAT) == 12);
    CHECK(offsetof(HDAUDIO_STREAM_FORMAT, SampleRate) == 0 && offsetof(HDAUDIO_STREAM_FORMAT, ValidBitsPerSample) == 4
          && offsetof(HDAUDIO_STREAM_FORMAT, ContainerSize) == 6 && offsetof(HDAUDIO_STREAM_FORMAT, NumberOfChannels) == 8);
    CHECK(sizeof(HDAUDIO_CONVERTER_FORMAT) == 2);
    CHECK(sizeof(HDAUDIO_DEVICE_INFORMATION) == 10);
    CHECK(offsetof(HDAUDIO_DEVICE_INFORMATION, DeviceVersion) == 2 && offsetof(HDAUDIO_DEVICE_INFORMATION, DriverVersion) == 4
          && offsetof(HDAUDIO_DEVICE_INFORMATION, CodecsDetected) == 6 && offsetof(HDAUDIO_DEVICE_INFORMATION, IsStripingSupported) == 8);
    CHECK(sizeof(HDAUDIO_DEVICE_INFORMATION_V2) == 14);
    CHECK(offsetof(HDAUDIO_DEVICE_INFORMATION_V2, CtrlRevision) == 9 && offsetof(HDAUDIO_DEVICE_INFORMATION_V2, CtrlVendorId) == 10
          && offsetof(HDAUDIO_DEVICE_INFORMATION_V2, CtrlDeviceId) == 12);
    CHECK(sizeof(HDAUDIO_BUFFER_DESCRIPTOR) == 16);
    CHECK(offsetof(HDAUDIO_BUFFER_DESCRIPTOR, Length) == 8 && offsetof(HDAUDIO_BUFFER_DESCRIPTOR, InterruptOnCompletion) == 12);
    CHECK(sizeof(HDAUDIO_STREAM_STATE) == 4 && ResetState == 0 && StopState == 1 && PauseState == 1 && RunState == 2);
    CHECK(sizeof(INTERFACE) == 32 && offsetof(INTERFACE, Context) == 8 && offsetof(INTERFACE, InterfaceDereference) == 24);
    CHECK(sizeof(KEVENT) == 24 && offsetof(KEVENT, Header.SignalState) == 4);
    CHECK(sizeof(MDL) == 48 && offsetof(MDL, MappedSystemVa) == 24 && offsetof(MDL, ByteCount) == 40 && offsetof(MDL, ByteOffset) == 44);

    /* Bit fields. */
    HDAUDIO_CODEC_RESPONSE r;
    r.CompleteResponse = 0; r.IsValid = 1; CHECK(r.CompleteResponse == 1ULL << 63);
    r.CompleteResponse = 0; r.HasFifoOverrun = 1; CHECK(r.CompleteResponse == 1ULL << 62);
    r.CompleteResponse = 0; r.IsUnsolicitedResponse = 1; CHECK(r.CompleteResponse == 1ULL << 36);
    r.CompleteResponse = 0; r.SDataIn = 0xF; CHECK(r.CompleteResponse == 0xFULL << 32);
    r.CompleteResponse = 0; r.Unsolicited.Tag = 0x3F; CHECK(r.CompleteResponse == 0x3FULL << 26 && r.Response == 0xFC000000u);
    r.CompleteResponse = 0; r.Unsolicited.Response = 0x3FFFFFF; CHECK(r.CompleteResponse == 0x3FFFFFFULL);
    HDAUDIO_CONVERTER_FORMAT f;
    f.ConverterFormat = 0; f.SampleRate = 0x7F; CHECK(f.ConverterFormat == 0x7F00);
    f.ConverterFormat = 0; f.StreamType = 1; CHECK(f.ConverterFormat == 0x8000);
    f.ConverterFormat = 0; f.BitsPerSample = 7; CHECK(f.ConverterFormat == 0x0070);
    f.ConverterFormat = 0; f.NumberOfChannels = 0xF; CHECK(f.ConverterFormat == 0x000F);
    f.ConverterFormat = 0x0080; CHECK(f.SampleRate == 0 && f.BitsPerSample == 0);   /* bit 7: the unnamed pad */
    HDAUDIO_CODEC_COMMAND c;
    c.Command = 0; c.Verb8.CodecAddress = 0xF; CHECK(c.Command == 0xF0000000u);
    c.Command = 0; c.Verb8.Node = 0xFF; CHECK(c.Command == 0x0FF00000u);
    c.Command = 0; c.Verb8.VerbId = 0xFFF; CHECK(c.Command == 0x000FFF00u);
    c.Command = 0; c.Verb16.VerbId = 0xF; CHECK(c.Command == 0x000F0000u);
    c.Command = 0; c.Verb16.Data = 0xFFFF; CHECK(c.Command == 0x0000FFFFu);

    /* The interface tables: Size, Version, Context, then one pointer per routine. */
    CHECK(offsetof(HDAUDIO_BUS_INTERFACE, Version) == 2 && offsetof(HDAUDIO_BUS_INTERFACE, Context) == 8);
    CHECK(offsetof(HDAUDIO_BUS_INTERFACE, InterfaceReference) == PTR(0));
    CHECK(offsetof(HDAUDIO_BUS_INTERFACE, TransferCodecVerbs) == PTR(2));
    CHECK(offsetof(HDAUDIO_BUS_INTERFACE, AllocateDmaBuffer) == PTR(6));
    CHECK(offsetof(HDAUDIO_BUS_INTERFACE, SetDmaEngineState) == PTR(9));
    CHECK(offsetof(HDAUDIO_BUS_INTERFACE, GetResourceInformation) == PTR(15));
    CHECK(sizeof(HDAUDIO_BUS_INTERFACE) == PTR(16));
    CHECK(offsetof(HDAUDIO_BUS_INTERFACE_V2, GetResourceInformation) == PTR(15));
    CHECK(offsetof(HDAUDIO_BUS_INTERFACE_V2, AllocateDmaBufferWithNotification) == PTR(16));
    CHECK(offsetof(HDAUDIO_BUS_INTERFACE_V2, UnregisterNotificationEvent) == PTR(19));
    CHECK(sizeof(HDAUDIO_BUS_INTERFACE_V2) == PTR(20));
    CHECK(offsetof(HDAUDIO_BUS_INTERFACE_V3, UnregisterNotificationEvent) == PTR(19));
    CHECK(offsetof(HDAUDIO_BUS_INTERFACE_V3, RegisterNotificationCallback) == PTR(20));
    CHECK(offsetof(HDAUDIO_BUS_INTERFACE_V3, UnregisterNotificationCallback) == PTR(21));
    CHECK(sizeof(HDAUDIO_BUS_INTERFACE_V3) == PTR(22));
    CHECK(offsetof(HDAUDIO_BUS_INTERFACE_BDL, ChangeBandwidthAllocation) == PTR(5));
    CHECK(offsetof(HDAUDIO_BUS_INTERFACE_BDL, AllocateContiguousDmaBuffer) == PTR(6));
    CHECK(offsetof(HDAUDIO_BUS_INTERFACE_BDL, SetupDmaEngineWithBdl) == PTR(7));
    CHECK(offsetof(HDAUDIO_BUS_INTERFACE_BDL, FreeContiguousDmaBuffer) == PTR(8));
    CHECK(offsetof(HDAUDIO_BUS_INTERFACE_BDL, FreeDmaEngine) == PTR(9));
    CHECK(offsetof(HDAUDIO_BUS_INTERFACE_BDL, GetResourceInformation) == PTR(16));
    CHECK(sizeof(HDAUDIO_BUS_INTERFACE_BDL) == PTR(17));

    /* The GUIDs' published values. */
    CHECK(GUID_HDAUDIO_BUS_INTERFACE.Data1 == 0xd2eaf88b && GUID_HDAUDIO_BUS_INTERFACE.Data4[7] == 0x1b);
    CHECK(GUID_HDAUDIO_BUS_INTERFACE_V2.Data1 == 0xb52af5fb && GUID_HDAUDIO_BUS_INTERFACE_V2.Data2 == 0x424b);
    CHECK(GUID_HDAUDIO_BUS_INTERFACE_V3.Data1 == 0xdc25da12 && GUID_HDAUDIO_BUS_INTERFACE_V3.Data3 == 0x4c7f);
    CHECK(GUID_HDAUDIO_BUS_INTERFACE_BDL.Data1 == 0xb4d65397 && GUID_HDAUDIO_BUS_INTERFACE_BDL.Data4[0] == 0xb0);
    return CHECK_DONE();
}
