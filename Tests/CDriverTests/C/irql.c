/* The IRQL rule through the C tables: a routine called above the IRQL it allows is
   STATUS_UNSUCCESSFUL and does nothing. From a V3 notification callback (DISPATCH_LEVEL)
   every PASSIVE_LEVEL routine is refused and the DISPATCH_LEVEL ones work; from a BDL
   ISR (DIRQL) every routine is refused. */
#include <string.h>
#include "azalia.h"
#include "check.h"

#define UNSUCCESSFUL STATUS_UNSUCCESSFUL
static HDAUDIO_STREAM_FORMAT fmt48 = { 48000, 16, 16, 2 };
static PAZALIA_SYSTEM sys;

static void on_unsolicited(HDAUDIO_CODEC_RESPONSE r, PVOID context) { (void)r; (void)context; }
static void on_verbs(HDAUDIO_CODEC_TRANSFER *t, PVOID context) { (void)t; (*(int *)context)++; }
static void other_callback(PVOID context, LARGE_INTEGER qpc) { (void)context; (void)qpc; }

/* DISPATCH_LEVEL: a V3 client's callback. */
static HDAUDIO_BUS_INTERFACE_V3 v3;
static HANDLE running, spare;
static PMDL running_mdl;
static SIZE_T running_size;
static KEVENT running_event;
static UCHAR event_tag;
static int dispatch_calls, dispatch_checked, async_done;

static void at_dispatch(PVOID context, LARGE_INTEGER qpc) {
    (void)context; (void)qpc;
    dispatch_calls++;
    if (dispatch_calls != 1) return;
    dispatch_checked = 1;
    CHECK(KeGetCurrentIrql() == DISPATCH_LEVEL);
    PVOID ctx = v3.Context;
    HANDLE h = NULL; HDAUDIO_CONVERTER_FORMAT cf = { .ConverterFormat = 0xBEEF };
    PMDL mdl = NULL; SIZE_T size = 0, offset = 0; UCHAR id = 0; ULONG fifo = 0;
    KEVENT e; KeInitializeEvent(&e, NotificationEvent, FALSE);
    UCHAR tag = 0xEE;
    /* PASSIVE_LEVEL routines: refused, nothing written. */
    CHECK_STATUS(v3.AllocateRenderDmaEngine(ctx, &fmt48, FALSE, &h, &cf), UNSUCCESSFUL);
    CHECK_STATUS(v3.AllocateCaptureDmaEngine(ctx, 0, &fmt48, &h, &cf), UNSUCCESSFUL);
    CHECK(h == NULL && cf.ConverterFormat == 0xBEEF);
    CHECK_STATUS(v3.ChangeBandwidthAllocation(ctx, spare, &fmt48, &cf), UNSUCCESSFUL);
    CHECK_STATUS(v3.AllocateDmaBuffer(ctx, spare, 4096, &mdl, &size, &id, &fifo), UNSUCCESSFUL);
    CHECK_STATUS(v3.AllocateDmaBufferWithNotification(ctx, spare, 2, 4096, &mdl, &size, &offset, &id, &fifo), UNSUCCESSFUL);
    CHECK(mdl == NULL && size == 0);
    CHECK_STATUS(v3.FreeDmaBuffer(ctx, spare), UNSUCCESSFUL);
    CHECK_STATUS(v3.FreeDmaBufferWithNotification(ctx, running, running_mdl, running_size), UNSUCCESSFUL);
    CHECK_STATUS(v3.RegisterNotificationEvent(ctx, running, &e), UNSUCCESSFUL);
    CHECK_STATUS(v3.UnregisterNotificationEvent(ctx, running, &running_event), UNSUCCESSFUL);
    CHECK_STATUS(v3.RegisterNotificationCallback(ctx, running, NULL, other_callback, NULL), UNSUCCESSFUL);
    CHECK_STATUS(v3.UnregisterNotificationCallback(ctx, running, at_dispatch, (PVOID)0x31), UNSUCCESSFUL);
    CHECK_STATUS(v3.RegisterEventCallback(ctx, on_unsolicited, NULL, &tag), UNSUCCESSFUL);
    CHECK(tag == 0xEE);
    CHECK_STATUS(v3.UnregisterEventCallback(ctx, event_tag), UNSUCCESSFUL);
    HDAUDIO_DEVICE_INFORMATION info = { sizeof info, 0, 0, 0, 0 };
    CHECK_STATUS(v3.GetDeviceInformation(ctx, &info), UNSUCCESSFUL);
    CHECK(info.CodecsDetected == 0);
    HDAUDIO_CODEC_TRANSFER t; memset(&t, 0, sizeof t);
    t.Output.Command = 0x000F0000;
    CHECK_STATUS(v3.TransferCodecVerbs(ctx, 1, &t, NULL, NULL), UNSUCCESSFUL);   /* synchronous */
    UCHAR addr = 0xEE, start = 0xEE;
    v3.GetResourceInformation(ctx, &addr, &start);
    CHECK(addr == 0xEE && start == 0xEE);
    HDAUDIO_BUS_INTERFACE_V2 another;
    CHECK_STATUS(AzaliaQueryBusInterface(sys, 0, &GUID_HDAUDIO_BUS_INTERFACE_V2, sizeof another, 1, (PINTERFACE)&another), UNSUCCESSFUL);
    /* Up to DISPATCH_LEVEL: they work. */
    PULONG pos = NULL, wall = NULL;
    CHECK_STATUS(v3.GetLinkPositionRegister(ctx, running, &pos), STATUS_SUCCESS);
    CHECK(pos != NULL);
    v3.GetWallClockRegister(ctx, &wall);
    CHECK(wall != NULL);
    /* Asynchronous: the transfer array must outlive the call (the bus writes the responses into it
       when the codec answers, after this callback has returned), so it is not on this stack. */
    static HDAUDIO_CODEC_TRANSFER async_t;
    async_t = t;
    CHECK_STATUS(v3.TransferCodecVerbs(ctx, 1, &async_t, on_verbs, &async_done), STATUS_SUCCESS);
    CHECK_STATUS(v3.SetDmaEngineState(ctx, StopState, 1, &spare), STATUS_INVALID_DEVICE_REQUEST);
    CHECK_STATUS(v3.FreeDmaEngine(ctx, spare), STATUS_SUCCESS);
    spare = NULL;
}

/* DIRQL: a BDL client's ISR. */
static HDAUDIO_BUS_INTERFACE_BDL bdl;
static HANDLE bdl_engine, bdl_spare;
static int isr_calls, isr_checked;

static void at_dirql(PVOID context, ULONG mask) {
    (void)context; (void)mask;
    isr_calls++;
    if (isr_calls != 1) return;
    isr_checked = 1;
    CHECK(KeGetCurrentIrql() > DISPATCH_LEVEL);
    PVOID ctx = bdl.Context;
    HANDLE h = NULL; HDAUDIO_CONVERTER_FORMAT cf;
    PVOID data = NULL; PHDAUDIO_BUFFER_DESCRIPTOR list = NULL; UCHAR id = 0; ULONG fifo = 0;
    CHECK_STATUS(bdl.AllocateRenderDmaEngine(ctx, &fmt48, FALSE, &h, &cf), UNSUCCESSFUL);
    CHECK_STATUS(bdl.AllocateCaptureDmaEngine(ctx, 0, &fmt48, &h, &cf), UNSUCCESSFUL);
    CHECK_STATUS(bdl.ChangeBandwidthAllocation(ctx, bdl_spare, &fmt48, &cf), UNSUCCESSFUL);
    CHECK_STATUS(bdl.AllocateContiguousDmaBuffer(ctx, bdl_spare, 4096, &data, &list), UNSUCCESSFUL);
    CHECK(data == NULL && list == NULL);
    CHECK_STATUS(bdl.SetupDmaEngineWithBdl(ctx, bdl_spare, 4096, 1, at_dirql, NULL, &id, &fifo), UNSUCCESSFUL);
    CHECK_STATUS(bdl.FreeContiguousDmaBuffer(ctx, bdl_engine), UNSUCCESSFUL);
    /* The DISPATCH_LEVEL routines are refused too. */
    CHECK_STATUS(bdl.SetDmaEngineState(ctx, PauseState, 1, &bdl_engine), UNSUCCESSFUL);
    CHECK_STATUS(bdl.FreeDmaEngine(ctx, bdl_spare), UNSUCCESSFUL);
    PULONG pos = NULL, wall = (PULONG)1;
    CHECK_STATUS(bdl.GetLinkPositionRegister(ctx, bdl_engine, &pos), UNSUCCESSFUL);
    bdl.GetWallClockRegister(ctx, &wall);
    CHECK(wall == NULL);
    HDAUDIO_CODEC_TRANSFER t; memset(&t, 0, sizeof t);
    t.Output.Command = 0x000F0000;
    CHECK_STATUS(bdl.TransferCodecVerbs(ctx, 1, &t, on_verbs, &async_done), UNSUCCESSFUL);
    CHECK_STATUS(bdl.TransferCodecVerbs(ctx, 1, &t, NULL, NULL), UNSUCCESSFUL);
    UCHAR tag = 0;
    CHECK_STATUS(bdl.RegisterEventCallback(ctx, on_unsolicited, NULL, &tag), UNSUCCESSFUL);
    CHECK_STATUS(bdl.UnregisterEventCallback(ctx, 0), UNSUCCESSFUL);
    HDAUDIO_DEVICE_INFORMATION info = { sizeof info, 0, 0, 0, 0 };
    CHECK_STATUS(bdl.GetDeviceInformation(ctx, &info), UNSUCCESSFUL);
    CHECK(KeGetCurrentIrql() > DISPATCH_LEVEL);
}

int main(void) {
    AZALIA_CODEC codec = { 0, 2, 2, 0, NULL, 0, NULL };
    CHECK_STATUS(AzaliaCreateSystem("ich9", &codec, 1, &sys), STATUS_SUCCESS);
    CHECK(KeGetCurrentIrql() == PASSIVE_LEVEL);
    /* DISPATCH_LEVEL. */
    CHECK_STATUS(AzaliaQueryBusInterface(sys, 0, &GUID_HDAUDIO_BUS_INTERFACE_V3, sizeof v3, 1, (PINTERFACE)&v3), STATUS_SUCCESS);
    HDAUDIO_CONVERTER_FORMAT cf;
    CHECK_STATUS(v3.AllocateRenderDmaEngine(v3.Context, &fmt48, FALSE, &running, &cf), STATUS_SUCCESS);
    CHECK_STATUS(v3.AllocateRenderDmaEngine(v3.Context, &fmt48, FALSE, &spare, &cf), STATUS_SUCCESS);
    SIZE_T offset; UCHAR id; ULONG fifo;
    CHECK_STATUS(v3.AllocateDmaBufferWithNotification(v3.Context, running, 2, 4096, &running_mdl, &running_size, &offset, &id, &fifo), STATUS_SUCCESS);
    KeInitializeEvent(&running_event, NotificationEvent, FALSE);
    CHECK_STATUS(v3.RegisterNotificationEvent(v3.Context, running, &running_event), STATUS_SUCCESS);
    CHECK_STATUS(v3.RegisterEventCallback(v3.Context, on_unsolicited, NULL, &event_tag), STATUS_SUCCESS);
    CHECK_STATUS(v3.RegisterNotificationCallback(v3.Context, running, NULL, at_dispatch, (PVOID)0x31), STATUS_SUCCESS);
    CHECK_STATUS(v3.SetDmaEngineState(v3.Context, StopState, 1, &running), STATUS_SUCCESS);
    CHECK_STATUS(v3.SetDmaEngineState(v3.Context, RunState, 1, &running), STATUS_SUCCESS);
    CHECK_STATUS(AzaliaAdvanceFrames(sys, 1100), STATUS_SUCCESS);   /* IOCs at 512 and 1024 */
    CHECK(dispatch_checked && dispatch_calls == 2 && async_done == 1 && spare == NULL);
    /* Back at PASSIVE_LEVEL the refused calls work: nothing was left half done. */
    CHECK(KeGetCurrentIrql() == PASSIVE_LEVEL);
    CHECK_STATUS(v3.SetDmaEngineState(v3.Context, StopState, 1, &running), STATUS_SUCCESS);
    CHECK_STATUS(v3.UnregisterNotificationCallback(v3.Context, running, at_dispatch, (PVOID)0x31), STATUS_SUCCESS);
    CHECK_STATUS(v3.UnregisterNotificationEvent(v3.Context, running, &running_event), STATUS_SUCCESS);
    CHECK_STATUS(v3.UnregisterEventCallback(v3.Context, event_tag), STATUS_SUCCESS);
    CHECK_STATUS(v3.SetDmaEngineState(v3.Context, ResetState, 1, &running), STATUS_SUCCESS);
    CHECK_STATUS(v3.FreeDmaBufferWithNotification(v3.Context, running, running_mdl, running_size), STATUS_SUCCESS);
    CHECK_STATUS(v3.FreeDmaEngine(v3.Context, running), STATUS_SUCCESS);
    v3.InterfaceDereference(v3.Context);
    /* DIRQL. */
    CHECK_STATUS(AzaliaQueryBusInterface(sys, 0, &GUID_HDAUDIO_BUS_INTERFACE_BDL, sizeof bdl, 1, (PINTERFACE)&bdl), STATUS_SUCCESS);
    CHECK_STATUS(bdl.AllocateRenderDmaEngine(bdl.Context, &fmt48, FALSE, &bdl_engine, &cf), STATUS_SUCCESS);
    CHECK_STATUS(bdl.AllocateRenderDmaEngine(bdl.Context, &fmt48, FALSE, &bdl_spare, &cf), STATUS_SUCCESS);
    PVOID data = NULL; PHDAUDIO_BUFFER_DESCRIPTOR list = NULL;
    CHECK_STATUS(bdl.AllocateContiguousDmaBuffer(bdl.Context, bdl_engine, 4096, &data, &list), STATUS_SUCCESS);
    PHYSICAL_ADDRESS pa = MmGetPhysicalAddress(data);
    for (int i = 0; i < 2; i++) {
        list[i].Address.QuadPart = pa.QuadPart + i * 2048;
        list[i].Length = 2048;
        list[i].InterruptOnCompletion = 1;
    }
    CHECK_STATUS(bdl.SetupDmaEngineWithBdl(bdl.Context, bdl_engine, 4096, 1, at_dirql, NULL, &id, &fifo), STATUS_SUCCESS);
    CHECK_STATUS(bdl.SetDmaEngineState(bdl.Context, StopState, 1, &bdl_engine), STATUS_SUCCESS);
    CHECK_STATUS(bdl.SetDmaEngineState(bdl.Context, RunState, 1, &bdl_engine), STATUS_SUCCESS);
    CHECK_STATUS(AzaliaAdvanceFrames(sys, 1100), STATUS_SUCCESS);
    CHECK(isr_checked && isr_calls == 2);
    /* The engine kept running: the Pause asked at DIRQL did nothing. */
    PULONG pos = NULL;
    CHECK_STATUS(bdl.GetLinkPositionRegister(bdl.Context, bdl_engine, &pos), STATUS_SUCCESS);
    ULONG p0 = *(volatile ULONG *)pos;
    CHECK_STATUS(AzaliaAdvanceFrames(sys, 100), STATUS_SUCCESS);
    CHECK(*(volatile ULONG *)pos != p0);
    CHECK_STATUS(bdl.FreeDmaEngine(bdl.Context, bdl_spare), STATUS_SUCCESS);
    bdl.InterfaceDereference(bdl.Context);
    CHECK_STATUS(AzaliaDestroySystem(sys), STATUS_SUCCESS);
    return CHECK_DONE();
}
