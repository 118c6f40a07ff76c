/* Every routine of the four interface versions through the C tables: success and the
   documented statuses, live register pointers, events, V3 callbacks and the BDL ISR
   firing the right number of times, and NULL, garbage and stale arguments. */
#define _POSIX_C_SOURCE 199309L
#include <stdlib.h>
#include <time.h>
#include "azalia.h"
#include "check.h"

#define INVALID_DEVICE_REQUEST STATUS_INVALID_DEVICE_REQUEST
static HDAUDIO_STREAM_FORMAT fmt48 = { 48000, 16, 16, 2 };

static PAZALIA_SYSTEM make_system(void) {
    AZALIA_ENDPOINT sink = { AzaliaEndpointMemory, NULL, NULL, 0, { 0, 0, 0, 0 }, 0, 0 };
    AZALIA_CODEC codec = { 0, 2, 2, 1, &sink, 0, NULL };
    PAZALIA_SYSTEM s = NULL;
    CHECK_STATUS(AzaliaCreateSystem("ich9", &codec, 1, &s), STATUS_SUCCESS);
    return s;
}

static PVOID v3_bus_context;
static int v3_calls;
static LONGLONG v3_stamps[64];
static void v3_callback(PVOID context, LARGE_INTEGER qpc) {
    if (v3_calls < 64) v3_stamps[v3_calls] = qpc.QuadPart;
    v3_calls++;
    CHECK(context == (PVOID)0x1234);
    CHECK(KeGetCurrentIrql() == DISPATCH_LEVEL);
    /* A PASSIVE_LEVEL routine called at DISPATCH_LEVEL: the bus's IRQL rule. */
    if (v3_calls == 1 && v3_bus_context) {
        HDAUDIO_BUS_INTERFACE_V3 *t = (HDAUDIO_BUS_INTERFACE_V3 *)v3_bus_context;
        HANDLE h; HDAUDIO_CONVERTER_FORMAT cf;
        HDAUDIO_STREAM_FORMAT f = { 48000, 16, 16, 2 };
        CHECK_STATUS(t->AllocateRenderDmaEngine(t->Context, &f, FALSE, &h, &cf), STATUS_UNSUCCESSFUL);
    }
}
static void v3_other(PVOID context, LARGE_INTEGER qpc) { (void)context; (void)qpc; }

static int isr_calls, isr_ioc;
static void bdl_isr(PVOID context, ULONG mask) {
    isr_calls++;
    if (mask & 0x4) isr_ioc++;
    CHECK((mask & ~0x1Cu) == 0);
    CHECK(context == (PVOID)0x77);
    CHECK(KeGetCurrentIrql() > DISPATCH_LEVEL);
}

static int transfer_done;
static void transfer_complete(HDAUDIO_CODEC_TRANSFER *t, PVOID context) {
    transfer_done++;
    CHECK(context == (PVOID)0x55);
    CHECK(t[0].Input.IsValid == 1);
}

static int unsolicited_calls;
static ULONG unsolicited_last;
static void unsolicited(HDAUDIO_CODEC_RESPONSE r, PVOID context) {
    unsolicited_calls++;
    unsolicited_last = r.Response;
    CHECK(context == (PVOID)0x66);
    CHECK(r.IsUnsolicitedResponse == 1 && r.IsValid == 1);
}

static void test_query(PAZALIA_SYSTEM s) {
    HDAUDIO_BUS_INTERFACE_V3 v3;
    GUID unknown = { 1, 2, 3, { 4, 5, 6, 7, 8, 9, 10, 11 } };
    CHECK_STATUS(AzaliaQueryBusInterface(s, 0, &unknown, sizeof v3, 1, (PINTERFACE)&v3), STATUS_NOT_SUPPORTED);
    CHECK_STATUS(AzaliaQueryBusInterface(s, 0, &GUID_HDAUDIO_BUS_INTERFACE_V3, sizeof v3 - 8, 1, (PINTERFACE)&v3), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(AzaliaQueryBusInterface(s, 0, &GUID_HDAUDIO_BUS_INTERFACE_V3, sizeof v3, 7, (PINTERFACE)&v3), STATUS_NOT_SUPPORTED);
    CHECK_STATUS(AzaliaQueryBusInterface(s, 15, &GUID_HDAUDIO_BUS_INTERFACE_V3, sizeof v3, 1, (PINTERFACE)&v3), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(AzaliaQueryBusInterface(s, 0, &GUID_HDAUDIO_BUS_INTERFACE_V3, sizeof v3, 1, NULL), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(AzaliaQueryBusInterface((PAZALIA_SYSTEM)0x1000, 0, &GUID_HDAUDIO_BUS_INTERFACE_V3, sizeof v3, 1, (PINTERFACE)&v3), STATUS_INVALID_HANDLE);
    CHECK_STATUS(AzaliaQueryBusInterface(s, 0, &GUID_HDAUDIO_BUS_INTERFACE_V3, sizeof v3, 0x0100, (PINTERFACE)&v3), STATUS_SUCCESS);
    CHECK(v3.Size == sizeof v3 && v3.Version == 0x0100 && v3.Context != NULL);
    /* Two references: the query's and one more; the client lives until both are gone. */
    v3.InterfaceReference(v3.Context);
    v3.InterfaceDereference(v3.Context);
    HDAUDIO_DEVICE_INFORMATION info = { sizeof info, 0, 0, 0, 0 };
    CHECK_STATUS(v3.GetDeviceInformation(v3.Context, &info), STATUS_SUCCESS);
    HANDLE h = NULL;
    HDAUDIO_CONVERTER_FORMAT cf;
    CHECK_STATUS(v3.AllocateRenderDmaEngine(v3.Context, &fmt48, FALSE, &h, &cf), STATUS_SUCCESS);
    v3.InterfaceDereference(v3.Context);   /* the last: the client is closed */
    CHECK_STATUS(v3.FreeDmaEngine(v3.Context, h), STATUS_INVALID_HANDLE);
    CHECK_STATUS(v3.AllocateRenderDmaEngine(v3.Context, &fmt48, FALSE, &h, &cf), INVALID_DEVICE_REQUEST);
    v3.InterfaceDereference(v3.Context);   /* one too many: ignored */
    /* A Context the library never handed out. */
    CHECK_STATUS(v3.AllocateRenderDmaEngine((PVOID)0xdeadbeef, &fmt48, FALSE, &h, &cf), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(v3.GetDeviceInformation(NULL, &info), STATUS_INVALID_PARAMETER);
}

static void test_base(PAZALIA_SYSTEM s) {
    HDAUDIO_BUS_INTERFACE b;
    CHECK_STATUS(AzaliaQueryBusInterface(s, 0, &GUID_HDAUDIO_BUS_INTERFACE, sizeof b, 1, (PINTERFACE)&b), STATUS_SUCCESS);
    PVOID ctx = b.Context;
    /* Device and resource information. */
    HDAUDIO_DEVICE_INFORMATION_V2 info2; memset(&info2, 0, sizeof info2); info2.Size = sizeof info2;
    CHECK_STATUS(b.GetDeviceInformation(ctx, (PHDAUDIO_DEVICE_INFORMATION)&info2), STATUS_SUCCESS);
    CHECK(info2.CodecsDetected == 1 && info2.DriverVersion == 0x0100 && info2.CtrlVendorId == 0x8086);
    HDAUDIO_DEVICE_INFORMATION small = { 4, 0, 0, 0, 0 };
    CHECK_STATUS(b.GetDeviceInformation(ctx, &small), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(b.GetDeviceInformation(ctx, NULL), STATUS_INVALID_PARAMETER);
    UCHAR addr = 0xEE, start = 0xEE;
    b.GetResourceInformation(ctx, &addr, &start);
    CHECK(addr == 0 && start == 1);
    b.GetResourceInformation(ctx, NULL, NULL);   /* no crash */
    /* Codec verbs, synchronous and asynchronous. */
    HDAUDIO_CODEC_TRANSFER t[2];
    memset(t, 0, sizeof t);
    t[0].Output.Command = 0x000F0000;   /* root: GET_PARAMETER vendor id */
    t[1].Output.Command = 0x001F0004;   /* AFG: subordinate node count */
    CHECK_STATUS(b.TransferCodecVerbs(ctx, 2, t, NULL, NULL), STATUS_SUCCESS);
    CHECK(t[0].Input.IsValid && t[0].Input.Response == 0xA2A10001u);
    CHECK(t[1].Input.IsValid && (t[1].Input.Response >> 16) == 2);
    CHECK_STATUS(b.TransferCodecVerbs(ctx, 0, t, NULL, NULL), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(b.TransferCodecVerbs(ctx, 2, NULL, NULL, NULL), STATUS_INVALID_PARAMETER);
    memset(t, 0, sizeof t);
    t[0].Output.Command = 0x000F0000;
    CHECK_STATUS(b.TransferCodecVerbs(ctx, 1, t, transfer_complete, (PVOID)0x55), STATUS_SUCCESS);
    CHECK_STATUS(AzaliaAdvanceFrames(s, 48), STATUS_SUCCESS);
    CHECK(transfer_done == 1);
    /* Unsolicited responses. */
    UCHAR tag = 0xFF;
    CHECK_STATUS(b.RegisterEventCallback(ctx, unsolicited, (PVOID)0x66, &tag), STATUS_SUCCESS);
    CHECK(tag < 64);
    CHECK_STATUS(b.RegisterEventCallback(ctx, NULL, NULL, &tag), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(b.RegisterEventCallback(ctx, unsolicited, NULL, NULL), STATUS_INVALID_PARAMETER);
    UCHAR pin = 2 + 2 + 2;   /* the first output pin: after AFG, 2 DACs, 2 ADCs */
    memset(t, 0, sizeof t);
    t[0].Output.Command = (ULONG)pin << 20 | 0x70800 | 0x80 | tag;   /* SET_UNSOLICITED_ENABLE */
    CHECK_STATUS(b.TransferCodecVerbs(ctx, 1, t, NULL, NULL), STATUS_SUCCESS);
    CHECK_STATUS(AzaliaRaiseUnsolicited(s, 0, pin, 0x1234), STATUS_SUCCESS);
    CHECK_STATUS(AzaliaAdvanceFrames(s, 48), STATUS_SUCCESS);
    CHECK(unsolicited_calls == 1 && (unsolicited_last & 0x3FFFFFF) == 0x1234 && (unsolicited_last >> 26) == tag);
    CHECK_STATUS(b.UnregisterEventCallback(ctx, tag), STATUS_SUCCESS);
    CHECK_STATUS(b.UnregisterEventCallback(ctx, tag), STATUS_INVALID_PARAMETER);
    /* Engines and the plain DMA buffer. */
    HANDLE h = NULL, c = NULL;
    HDAUDIO_CONVERTER_FORMAT cf;
    HDAUDIO_STREAM_FORMAT bad = { 12345, 16, 16, 2 };
    CHECK_STATUS(b.AllocateRenderDmaEngine(ctx, &bad, FALSE, &h, &cf), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(b.AllocateRenderDmaEngine(ctx, &fmt48, FALSE, NULL, &cf), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(b.AllocateRenderDmaEngine(ctx, NULL, FALSE, &h, &cf), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(b.AllocateRenderDmaEngine(ctx, &fmt48, FALSE, &h, &cf), STATUS_SUCCESS);
    CHECK(cf.ConverterFormat == 0x0011);
    CHECK_STATUS(b.AllocateCaptureDmaEngine(ctx, 0, &fmt48, &c, &cf), STATUS_SUCCESS);
    CHECK_STATUS(b.AllocateCaptureDmaEngine(ctx, 5, &fmt48, &c, &cf), STATUS_INVALID_PARAMETER);
    HDAUDIO_STREAM_FORMAT mono = { 44100, 16, 16, 1 };
    CHECK_STATUS(b.ChangeBandwidthAllocation(ctx, h, &mono, &cf), STATUS_SUCCESS);
    CHECK(cf.ConverterFormat == 0x4010);
    CHECK_STATUS(b.ChangeBandwidthAllocation(ctx, (HANDLE)0x4242, &mono, &cf), STATUS_INVALID_HANDLE);
    CHECK_STATUS(b.ChangeBandwidthAllocation(ctx, h, &fmt48, &cf), STATUS_SUCCESS);
    CHECK_STATUS(b.SetDmaEngineState(ctx, RunState, 1, &h), INVALID_DEVICE_REQUEST);   /* no buffer */
    PMDL mdl = NULL; SIZE_T size = 0; UCHAR id = 0; ULONG fifo = 0;
    CHECK_STATUS(b.AllocateDmaBuffer(ctx, h, 0, &mdl, &size, &id, &fifo), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(b.AllocateDmaBuffer(ctx, h, 4096, NULL, &size, &id, &fifo), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(b.AllocateDmaBuffer(ctx, (HANDLE)1, 4096, &mdl, &size, &id, &fifo), STATUS_INVALID_HANDLE);
    CHECK_STATUS(b.AllocateDmaBuffer(ctx, h, 8192, &mdl, &size, &id, &fifo), STATUS_SUCCESS);
    CHECK(mdl != NULL && MmGetMdlByteCount(mdl) == size && size > 0 && id >= 1 && id <= 15 && fifo > 0);
    CHECK(MmGetSystemAddressForMdlSafe(mdl, NormalPagePriority) != NULL);
    CHECK(MmGetMdlPfnArray(mdl)[0] != 0);
    CHECK((ULONGLONG)MmGetPhysicalAddress(MmGetSystemAddressForMdlSafe(mdl, NormalPagePriority)).QuadPart
          == (ULONGLONG)MmGetMdlPfnArray(mdl)[0] << PAGE_SHIFT);
    CHECK_STATUS(b.AllocateDmaBuffer(ctx, h, 8192, &mdl, &size, &id, &fifo), INVALID_DEVICE_REQUEST);
    /* Live registers: plain volatile reads change as link time moves. */
    PULONG wall = NULL, pos = NULL;
    b.GetWallClockRegister(ctx, &wall);
    CHECK(wall != NULL);
    CHECK_STATUS(b.GetLinkPositionRegister(ctx, h, &pos), STATUS_SUCCESS);
    CHECK_STATUS(b.GetLinkPositionRegister(ctx, h, NULL), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(b.GetLinkPositionRegister(ctx, (HANDLE)0x999, &pos), STATUS_INVALID_HANDLE);
    ULONG w0 = READ_REGISTER_ULONG(wall), p0 = *(volatile ULONG *)pos;
    CHECK_STATUS(b.SetDmaEngineState(ctx, RunState, 1, &h), INVALID_DEVICE_REQUEST);   /* Reset to Run */
    CHECK_STATUS(b.SetDmaEngineState(ctx, StopState, 1, &h), STATUS_SUCCESS);
    CHECK_STATUS(b.SetDmaEngineState(ctx, RunState, 1, &h), STATUS_SUCCESS);
    CHECK_STATUS(AzaliaAdvanceFrames(s, 480), STATUS_SUCCESS);
    ULONG w1 = READ_REGISTER_ULONG(wall), p1 = *(volatile ULONG *)pos;
    CHECK(w1 - w0 >= 480u * 500u);
    CHECK(p1 != p0 && p1 < size);
    CHECK_STATUS(b.FreeDmaBuffer(ctx, h), INVALID_DEVICE_REQUEST);   /* running */
    CHECK_STATUS(b.FreeDmaEngine(ctx, h), INVALID_DEVICE_REQUEST);
    CHECK_STATUS(b.SetDmaEngineState(ctx, ResetState, 1, &h), INVALID_DEVICE_REQUEST);   /* Run to Reset */
    CHECK_STATUS(b.SetDmaEngineState(ctx, PauseState, 1, &h), STATUS_SUCCESS);
    CHECK_STATUS(b.SetDmaEngineState(ctx, ResetState, 1, &h), STATUS_SUCCESS);
    CHECK_STATUS(b.SetDmaEngineState(ctx, ResetState, 0, &h), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(b.SetDmaEngineState(ctx, ResetState, 1, NULL), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(b.SetDmaEngineState(ctx, (HDAUDIO_STREAM_STATE)7, 1, &h), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(b.FreeDmaBuffer(ctx, h), STATUS_SUCCESS);
    CHECK_STATUS(b.FreeDmaBuffer(ctx, h), INVALID_DEVICE_REQUEST);
    CHECK_STATUS(b.FreeDmaEngine(ctx, h), STATUS_SUCCESS);
    CHECK_STATUS(b.FreeDmaEngine(ctx, h), STATUS_INVALID_HANDLE);   /* stale */
    CHECK_STATUS(b.FreeDmaEngine(ctx, c), STATUS_SUCCESS);
    b.InterfaceDereference(ctx);
}

static void test_v2_v3(PAZALIA_SYSTEM s) {
    HDAUDIO_BUS_INTERFACE_V3 v;
    CHECK_STATUS(AzaliaQueryBusInterface(s, 0, &GUID_HDAUDIO_BUS_INTERFACE_V3, sizeof v, 1, (PINTERFACE)&v), STATUS_SUCCESS);
    PVOID ctx = v.Context;
    HANDLE h = NULL;
    HDAUDIO_CONVERTER_FORMAT cf;
    CHECK_STATUS(v.AllocateRenderDmaEngine(ctx, &fmt48, FALSE, &h, &cf), STATUS_SUCCESS);
    PMDL mdl = NULL; SIZE_T size = 0, offset = 99; UCHAR id = 0; ULONG fifo = 0;
    CHECK_STATUS(v.AllocateDmaBufferWithNotification(ctx, h, 3, 4096, &mdl, &size, &offset, &id, &fifo), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(v.AllocateDmaBufferWithNotification(ctx, h, 2, 4096, &mdl, &size, NULL, &id, &fifo), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(v.AllocateDmaBufferWithNotification(ctx, h, 2, 4096, &mdl, &size, &offset, &id, &fifo), STATUS_SUCCESS);
    CHECK(offset == 0 && size == 4096);
    KEVENT e1, e2;
    KeInitializeEvent(&e1, NotificationEvent, FALSE);
    KeInitializeEvent(&e2, SynchronizationEvent, FALSE);
    CHECK_STATUS(v.RegisterNotificationEvent(ctx, h, &e1), STATUS_SUCCESS);
    CHECK_STATUS(v.RegisterNotificationEvent(ctx, h, &e1), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(v.RegisterNotificationEvent(ctx, h, NULL), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(v.RegisterNotificationEvent(ctx, (HANDLE)0x77, &e2), STATUS_INVALID_HANDLE);
    CHECK_STATUS(v.RegisterNotificationEvent(ctx, h, &e2), STATUS_SUCCESS);
    v3_bus_context = &v;
    DEVICE_OBJECT fdo; memset(&fdo, 0, sizeof fdo);
    CHECK_STATUS(v.RegisterNotificationCallback(ctx, h, &fdo, v3_callback, (PVOID)0x1234), STATUS_SUCCESS);
    CHECK(fdo.ReferenceCount == 1);
    CHECK_STATUS(v.RegisterNotificationCallback(ctx, h, &fdo, v3_callback, (PVOID)0x1234), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(v.RegisterNotificationCallback(ctx, h, &fdo, NULL, NULL), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(v.RegisterNotificationCallback(ctx, (HANDLE)0x77, &fdo, v3_callback, NULL), STATUS_INVALID_HANDLE);
    /* Unregister matches callback and context together. */
    CHECK_STATUS(v.UnregisterNotificationCallback(ctx, h, v3_callback, (PVOID)0x9999), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(v.UnregisterNotificationCallback(ctx, h, v3_other, (PVOID)0x1234), STATUS_INVALID_PARAMETER);
    /* Four slots per engine. */
    CHECK_STATUS(v.RegisterNotificationCallback(ctx, h, NULL, v3_other, (PVOID)1), STATUS_SUCCESS);
    CHECK_STATUS(v.RegisterNotificationCallback(ctx, h, NULL, v3_other, (PVOID)2), STATUS_SUCCESS);
    CHECK_STATUS(v.RegisterNotificationCallback(ctx, h, NULL, v3_other, (PVOID)3), STATUS_SUCCESS);
    CHECK_STATUS(v.RegisterNotificationCallback(ctx, h, NULL, v3_other, (PVOID)4), STATUS_INSUFFICIENT_RESOURCES);
    CHECK_STATUS(v.UnregisterNotificationCallback(ctx, h, v3_other, (PVOID)3), STATUS_SUCCESS);
    /* 4096 bytes of 48 kHz stereo 16-bit = 1024 frames: an IOC every 512 frames. */
    CHECK_STATUS(v.SetDmaEngineState(ctx, StopState, 1, &h), STATUS_SUCCESS);
    CHECK_STATUS(v.SetDmaEngineState(ctx, RunState, 1, &h), STATUS_SUCCESS);
    ULONGLONG f0 = 0;
    CHECK_STATUS(AzaliaGetLinkFrame(s, &f0), STATUS_SUCCESS);
    LARGE_INTEGER timeout; timeout.QuadPart = -(LONGLONG)10000 * 100;   /* 100 ms */
    CHECK_STATUS(KeWaitForSingleObject(&e2, Executive, KernelMode, FALSE, &timeout), STATUS_SUCCESS);
    CHECK(KeReadStateEvent(&e2) == 0);   /* the synchronization event was consumed */
    CHECK(KeReadStateEvent(&e1) == 1);   /* the notification event stays signalled */
    KeClearEvent(&e1);
    CHECK_STATUS(KeWaitForSingleObject(&e2, Executive, KernelMode, FALSE, &timeout), STATUS_SUCCESS);
    ULONGLONG f1 = 0;
    AzaliaGetLinkFrame(s, &f1);
    CHECK(f1 - f0 >= 1024 && f1 - f0 <= 1024 + 64);   /* two IOCs: a buffer's worth */
    CHECK(v3_calls == 2);
    CHECK(v3_stamps[1] - v3_stamps[0] >= 106666 - 1 && v3_stamps[1] - v3_stamps[0] <= 106666 + 1);   /* 512 frames in 100 ns */
    CHECK_STATUS(AzaliaAdvanceFrames(s, 512 * 4), STATUS_SUCCESS);
    CHECK(v3_calls == 6);
    v3_bus_context = NULL;
    timeout.QuadPart = 0;
    CHECK_STATUS(KeWaitForSingleObject(&e2, Executive, KernelMode, FALSE, &timeout), STATUS_SUCCESS);
    CHECK_STATUS(KeWaitForSingleObject(&e2, Executive, KernelMode, FALSE, &timeout), STATUS_TIMEOUT);
    CHECK_STATUS(KeWaitForSingleObject(NULL, Executive, KernelMode, FALSE, &timeout), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(v.SetDmaEngineState(ctx, StopState, 1, &h), STATUS_SUCCESS);
    timeout.QuadPart = -(LONGLONG)10000 * 50;   /* stopped: nothing comes in 50 ms */
    ULONGLONG f2 = 0, f3 = 0;
    AzaliaGetLinkFrame(s, &f2);
    CHECK_STATUS(KeWaitForSingleObject(&e2, Executive, KernelMode, FALSE, &timeout), STATUS_TIMEOUT);
    AzaliaGetLinkFrame(s, &f3);
    CHECK(f3 - f2 == 2400);
    CHECK_STATUS(v.UnregisterNotificationCallback(ctx, h, v3_callback, (PVOID)0x1234), STATUS_SUCCESS);
    CHECK(fdo.ReferenceCount == 0);
    CHECK_STATUS(v.UnregisterNotificationCallback(ctx, h, v3_callback, (PVOID)0x1234), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(v.UnregisterNotificationEvent(ctx, h, &e1), STATUS_SUCCESS);
    CHECK_STATUS(v.UnregisterNotificationEvent(ctx, h, &e1), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(v.SetDmaEngineState(ctx, ResetState, 1, &h), STATUS_SUCCESS);
    PMDL other = (PMDL)malloc(sizeof(MDL) + 8);
    CHECK_STATUS(v.FreeDmaBufferWithNotification(ctx, h, other, size), STATUS_INVALID_PARAMETER);
    free(other);
    CHECK_STATUS(v.FreeDmaBufferWithNotification(ctx, h, mdl, size + 1), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(v.FreeDmaBuffer(ctx, h), INVALID_DEVICE_REQUEST);   /* a notification buffer */
    CHECK_STATUS(v.FreeDmaBufferWithNotification(ctx, h, mdl, size), STATUS_SUCCESS);
    CHECK_STATUS(v.FreeDmaEngine(ctx, h), STATUS_SUCCESS);
    /* A V3 routine through a V2 client's Context is refused. */
    HDAUDIO_BUS_INTERFACE_V2 v2;
    CHECK_STATUS(AzaliaQueryBusInterface(s, 0, &GUID_HDAUDIO_BUS_INTERFACE_V2, sizeof v2, 1, (PINTERFACE)&v2), STATUS_SUCCESS);
    CHECK_STATUS(v.RegisterNotificationCallback(v2.Context, h, NULL, v3_callback, NULL), INVALID_DEVICE_REQUEST);
    v2.InterfaceDereference(v2.Context);
    /* The last dereference with an engine and a callback registered closes it all. */
    CHECK_STATUS(v.AllocateRenderDmaEngine(ctx, &fmt48, FALSE, &h, &cf), STATUS_SUCCESS);
    CHECK_STATUS(v.RegisterNotificationCallback(ctx, h, &fdo, v3_callback, (PVOID)0x1234), STATUS_SUCCESS);
    CHECK(fdo.ReferenceCount == 1);
    v.InterfaceDereference(ctx);
    CHECK(fdo.ReferenceCount == 0);
    CHECK_STATUS(v.RegisterNotificationCallback(ctx, h, &fdo, v3_callback, (PVOID)0x1234), STATUS_INVALID_HANDLE);
}

static void test_bdl(PAZALIA_SYSTEM s) {
    HDAUDIO_BUS_INTERFACE_BDL b;
    CHECK_STATUS(AzaliaQueryBusInterface(s, 0, &GUID_HDAUDIO_BUS_INTERFACE_BDL, sizeof b, 1, (PINTERFACE)&b), STATUS_SUCCESS);
    PVOID ctx = b.Context;
    HANDLE h = NULL;
    HDAUDIO_CONVERTER_FORMAT cf;
    CHECK_STATUS(b.AllocateRenderDmaEngine(ctx, &fmt48, FALSE, &h, &cf), STATUS_SUCCESS);
    PVOID data = NULL; PHDAUDIO_BUFFER_DESCRIPTOR bdl = NULL;
    CHECK_STATUS(b.AllocateContiguousDmaBuffer(ctx, h, 0, &data, &bdl), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(b.AllocateContiguousDmaBuffer(ctx, h, 8192, NULL, &bdl), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(b.AllocateContiguousDmaBuffer(ctx, h, 8192, &data, &bdl), STATUS_SUCCESS);
    CHECK(data != NULL && bdl != NULL);
    PHYSICAL_ADDRESS pa = MmGetPhysicalAddress(data);
    CHECK(pa.QuadPart != 0 && (pa.QuadPart & 0xFFF) == 0);
    for (int i = 0; i < 4; i++) {
        bdl[i].Address.QuadPart = pa.QuadPart + i * 2048;
        bdl[i].Length = 2048;
        bdl[i].InterruptOnCompletion = (i % 2 == 1) ? 1 : 0;
    }
    UCHAR id = 0; ULONG fifo = 0;
    CHECK_STATUS(b.SetupDmaEngineWithBdl(ctx, h, 8192, 0, bdl_isr, (PVOID)0x77, &id, &fifo), STATUS_INVALID_PARAMETER);   /* LVI 0 */
    CHECK_STATUS(b.SetupDmaEngineWithBdl(ctx, h, 4096, 3, bdl_isr, (PVOID)0x77, &id, &fifo), STATUS_INVALID_PARAMETER);   /* length */
    CHECK_STATUS(b.SetupDmaEngineWithBdl(ctx, h, 8192, 3, NULL, (PVOID)0x77, &id, &fifo), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(b.SetupDmaEngineWithBdl(ctx, h, 8192, 3, bdl_isr, (PVOID)0x77, &id, &fifo), STATUS_SUCCESS);
    CHECK(id >= 1 && id <= 15 && fifo > 0);
    /* 8192 bytes = 2048 frames, IOC at 1024 and 2048: 4 IOCs in 4096 frames (+ slack). */
    CHECK_STATUS(b.SetDmaEngineState(ctx, StopState, 1, &h), STATUS_SUCCESS);
    CHECK_STATUS(b.SetDmaEngineState(ctx, RunState, 1, &h), STATUS_SUCCESS);
    CHECK_STATUS(AzaliaAdvanceFrames(s, 4096 + 16), STATUS_SUCCESS);
    CHECK(isr_ioc == 4 && isr_calls == 4);
    CHECK_STATUS(b.FreeContiguousDmaBuffer(ctx, h), INVALID_DEVICE_REQUEST);
    CHECK_STATUS(b.SetDmaEngineState(ctx, StopState, 1, &h), STATUS_SUCCESS);
    CHECK_STATUS(b.SetDmaEngineState(ctx, ResetState, 1, &h), STATUS_SUCCESS);
    CHECK_STATUS(b.FreeContiguousDmaBuffer(ctx, h), STATUS_SUCCESS);
    CHECK_STATUS(b.FreeContiguousDmaBuffer(ctx, h), INVALID_DEVICE_REQUEST);
    CHECK_STATUS(b.FreeDmaEngine(ctx, h), STATUS_SUCCESS);
    /* BASE routines through a BDL Context are refused. */
    HDAUDIO_BUS_INTERFACE base;
    CHECK_STATUS(AzaliaQueryBusInterface(s, 0, &GUID_HDAUDIO_BUS_INTERFACE, sizeof base, 1, (PINTERFACE)&base), STATUS_SUCCESS);
    PMDL mdl; SIZE_T size; ULONG f;
    CHECK_STATUS(base.AllocateDmaBuffer(ctx, h, 4096, &mdl, &size, &id, &f), INVALID_DEVICE_REQUEST);
    base.InterfaceDereference(base.Context);
    b.InterfaceDereference(ctx);
}

int main(void) {
    PAZALIA_SYSTEM bad = NULL;
    CHECK_STATUS(AzaliaCreateSystem("no-such-profile", NULL, 0, &bad), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(AzaliaCreateSystem("ich9", NULL, 0, NULL), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(AzaliaAdvanceFrames((PAZALIA_SYSTEM)0x1234, 1), STATUS_INVALID_HANDLE);
    PAZALIA_SYSTEM s = make_system();
    test_query(s);
    test_base(s);
    test_v2_v3(s);
    test_bdl(s);
    /* Paced time: 20 ms of link time, and at least most of it on the wall clock. */
    ULONGLONG before = 0, after = 0;
    struct timespec t0, t1;
    AzaliaGetLinkFrame(s, &before);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK_STATUS(AzaliaRunPaced(s, 20000), STATUS_SUCCESS);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    AzaliaGetLinkFrame(s, &after);
    CHECK(after - before == 960);
    CHECK((t1.tv_sec - t0.tv_sec) * 1000000000L + (t1.tv_nsec - t0.tv_nsec) >= 15000000L);
    CHECK_STATUS(AzaliaGetLinkFrame(s, NULL), STATUS_INVALID_PARAMETER);
    /* The memory sink and unsolicited responses: arguments. */
    SIZE_T available = 1;
    CHECK_STATUS(AzaliaReadMemorySink(s, 0, 0, NULL, 0, &available), STATUS_SUCCESS);
    CHECK(available == 0);   /* nothing was streamed to DAC 0 with its converter programmed */
    CHECK_STATUS(AzaliaReadMemorySink(s, 0, 1, NULL, 0, &available), STATUS_INVALID_PARAMETER);   /* no memory sink */
    CHECK_STATUS(AzaliaReadMemorySink(s, 0, 0, NULL, 0, NULL), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(AzaliaRaiseUnsolicited(s, 3, 6, 0), STATUS_INVALID_PARAMETER);   /* no codec at 3 */
    CHECK_STATUS(AzaliaRaiseUnsolicited(s, 0, 7, 0), STATUS_UNSUCCESSFUL);        /* not enabled */
    CHECK_STATUS(AzaliaDestroySystem(s), STATUS_SUCCESS);
    CHECK_STATUS(AzaliaDestroySystem(s), STATUS_INVALID_HANDLE);
    return CHECK_DONE();
}
