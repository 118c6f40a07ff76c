/* The statuses a healthy machine never gives, through the C tables: handshakes that do not
   complete (STATUS_DEVICE_NOT_READY, with faults injected by AzaliaSetFaults), formats that
   do not fit a FIFO (STATUS_BUFFER_TOO_SMALL), and every resource running out
   (STATUS_INSUFFICIENT_RESOURCES: engines, link bandwidth, unsolicited-response tags,
   asynchronous verbs, DMA memory). After each refusal nothing was taken, and once the
   fault is lifted the same call succeeds. */
#include <string.h>
#include "azalia.h"
#include "check.h"

static HDAUDIO_STREAM_FORMAT fmt48 = { 48000, 16, 16, 2 };

static ULONG pages(PAZALIA_SYSTEM s) {
    ULONG n = 0;
    CHECK_STATUS(AzaliaGetAllocatedPages(s, &n), STATUS_SUCCESS);
    return n;
}

static PAZALIA_SYSTEM make(const char *profile) {
    AZALIA_CODEC codec = { 0, 2, 2, 0, NULL, 0, NULL };
    PAZALIA_SYSTEM s = NULL;
    CHECK_STATUS(AzaliaCreateSystem(profile, &codec, 1, &s), STATUS_SUCCESS);
    return s;
}

/* ICH6: input descriptors 0-3, output descriptors 4-7; the first render engine is 4. */
static void test_not_ready(PAZALIA_SYSTEM s) {
    HDAUDIO_BUS_INTERFACE_V2 b;
    CHECK_STATUS(AzaliaQueryBusInterface(s, 0, &GUID_HDAUDIO_BUS_INTERFACE_V2, sizeof b, 1, (PINTERFACE)&b), STATUS_SUCCESS);
    PVOID ctx = b.Context;
    HANDLE h = NULL; HDAUDIO_CONVERTER_FORMAT cf;
    CHECK_STATUS(b.AllocateRenderDmaEngine(ctx, &fmt48, FALSE, &h, &cf), STATUS_SUCCESS);
    AZALIA_FAULTS f; memset(&f, 0, sizeof f);
    PMDL mdl = NULL; SIZE_T size = 0, offset = 0; UCHAR id = 0; ULONG fifo = 0;
    ULONG before = pages(s);
    CHECK_STATUS(b.AllocateDmaBufferWithNotification(ctx, h, 2, 8192, &mdl, &size, &offset, &id, &fifo), STATUS_SUCCESS);
    CHECK(pages(s) == before + 3);   /* two data pages and the BDL page */
    /* FIFORDY never comes: Run is DEVICE_NOT_READY; once the FIFO works, Run runs. */
    CHECK_STATUS(b.SetDmaEngineState(ctx, StopState, 1, &h), STATUS_SUCCESS);
    f.FifoNeverReady = 1u << 4;
    CHECK_STATUS(AzaliaSetFaults(s, &f), STATUS_SUCCESS);
    CHECK_STATUS(b.SetDmaEngineState(ctx, RunState, 1, &h), STATUS_DEVICE_NOT_READY);
    f.FifoNeverReady = 0;
    CHECK_STATUS(AzaliaSetFaults(s, &f), STATUS_SUCCESS);
    CHECK_STATUS(b.SetDmaEngineState(ctx, ResetState, 1, &h), STATUS_SUCCESS);
    CHECK_STATUS(b.SetDmaEngineState(ctx, StopState, 1, &h), STATUS_SUCCESS);
    CHECK_STATUS(b.SetDmaEngineState(ctx, RunState, 1, &h), STATUS_SUCCESS);
    PULONG pos = NULL;
    CHECK_STATUS(b.GetLinkPositionRegister(ctx, h, &pos), STATUS_SUCCESS);
    ULONG p0 = *(volatile ULONG *)pos;
    CHECK_STATUS(AzaliaAdvanceFrames(s, 100), STATUS_SUCCESS);
    CHECK(*(volatile ULONG *)pos != p0);
    /* RUN never clears: Stop is DEVICE_NOT_READY. */
    f.RunNeverClears = 1u << 4;
    CHECK_STATUS(AzaliaSetFaults(s, &f), STATUS_SUCCESS);
    CHECK_STATUS(b.SetDmaEngineState(ctx, StopState, 1, &h), STATUS_DEVICE_NOT_READY);
    CHECK_STATUS(AzaliaSetFaults(s, NULL), STATUS_SUCCESS);
    CHECK_STATUS(b.SetDmaEngineState(ctx, StopState, 1, &h), STATUS_SUCCESS);
    /* SRST never clears: the reset pulse (SRST set, then cleared) does not complete. */
    f.RunNeverClears = 0;
    f.SrstNeverClears = 1u << 4;
    CHECK_STATUS(AzaliaSetFaults(s, &f), STATUS_SUCCESS);
    CHECK_STATUS(b.SetDmaEngineState(ctx, ResetState, 1, &h), STATUS_DEVICE_NOT_READY);
    CHECK_STATUS(AzaliaSetFaults(s, NULL), STATUS_SUCCESS);
    CHECK_STATUS(b.SetDmaEngineState(ctx, ResetState, 1, &h), STATUS_SUCCESS);
    CHECK_STATUS(b.FreeDmaBufferWithNotification(ctx, h, mdl, size), STATUS_SUCCESS);
    CHECK(pages(s) == before);
    /* The engine has left reset since it was allocated, so a new buffer resets it again:
       with SRST never latching, that handshake fails and nothing is kept. */
    f.SrstNeverClears = 0;
    f.SrstNeverLatches = 1u << 4;
    CHECK_STATUS(AzaliaSetFaults(s, &f), STATUS_SUCCESS);
    mdl = NULL;
    CHECK_STATUS(b.AllocateDmaBufferWithNotification(ctx, h, 2, 8192, &mdl, &size, &offset, &id, &fifo), STATUS_DEVICE_NOT_READY);
    CHECK(pages(s) == before && mdl == NULL);
    CHECK_STATUS(AzaliaSetFaults(s, NULL), STATUS_SUCCESS);
    CHECK_STATUS(b.AllocateDmaBufferWithNotification(ctx, h, 2, 8192, &mdl, &size, &offset, &id, &fifo), STATUS_SUCCESS);
    CHECK_STATUS(b.FreeDmaBufferWithNotification(ctx, h, mdl, size), STATUS_SUCCESS);
    CHECK_STATUS(b.FreeDmaEngine(ctx, h), STATUS_SUCCESS);
    CHECK(pages(s) == before);
    b.InterfaceDereference(ctx);
}

static void test_too_small(PAZALIA_SYSTEM s) {
    HDAUDIO_BUS_INTERFACE b;
    CHECK_STATUS(AzaliaQueryBusInterface(s, 0, &GUID_HDAUDIO_BUS_INTERFACE, sizeof b, 1, (PINTERFACE)&b), STATUS_SUCCESS);
    PVOID ctx = b.Context;
    HANDLE h = NULL; HDAUDIO_CONVERTER_FORMAT cf;
    /* ICH6's output FIFO holds 48 words a frame; 192 kHz 32-bit 8 channels needs 128. */
    HDAUDIO_STREAM_FORMAT big = { 192000, 32, 32, 8 };
    CHECK_STATUS(b.AllocateRenderDmaEngine(ctx, &big, FALSE, &h, &cf), STATUS_BUFFER_TOO_SMALL);
    HDAUDIO_STREAM_FORMAT in7 = { 192000, 16, 16, 7 };   /* input FIFO: 24 words, this needs 28 */
    CHECK_STATUS(b.AllocateCaptureDmaEngine(ctx, 0, &in7, &h, &cf), STATUS_BUFFER_TOO_SMALL);
    CHECK_STATUS(b.AllocateRenderDmaEngine(ctx, &fmt48, FALSE, &h, &cf), STATUS_SUCCESS);
    CHECK_STATUS(b.ChangeBandwidthAllocation(ctx, h, &big, &cf), STATUS_BUFFER_TOO_SMALL);
    CHECK(cf.ConverterFormat == 0x0011);
    CHECK_STATUS(b.FreeDmaEngine(ctx, h), STATUS_SUCCESS);
    b.InterfaceDereference(ctx);
}

static int verbs_done;
static void verbs_complete(HDAUDIO_CODEC_TRANSFER *t, PVOID context) { (void)t; (void)context; verbs_done++; }
static void on_unsolicited(HDAUDIO_CODEC_RESPONSE r, PVOID context) { (void)r; (void)context; }

static void test_resources(PAZALIA_SYSTEM s) {
    HDAUDIO_BUS_INTERFACE_V2 b;
    CHECK_STATUS(AzaliaQueryBusInterface(s, 0, &GUID_HDAUDIO_BUS_INTERFACE_V2, sizeof b, 1, (PINTERFACE)&b), STATUS_SUCCESS);
    PVOID ctx = b.Context;
    HDAUDIO_CONVERTER_FORMAT cf;
    /* Engines: ICH6 has four output engines and no bidirectional one. */
    HANDLE e[5];
    for (int i = 0; i < 4; i++) CHECK_STATUS(b.AllocateRenderDmaEngine(ctx, &fmt48, FALSE, &e[i], &cf), STATUS_SUCCESS);
    CHECK_STATUS(b.AllocateRenderDmaEngine(ctx, &fmt48, FALSE, &e[4], &cf), STATUS_INSUFFICIENT_RESOURCES);
    for (int i = 0; i < 4; i++) CHECK_STATUS(b.FreeDmaEngine(ctx, e[i]), STATUS_SUCCESS);
    /* Bandwidth: one SDO line carries 960 bits a frame on ICH6; 192 kHz 16-bit 8 channels
       takes 512, so the second does not fit although engines are free. */
    HDAUDIO_STREAM_FORMAT wide = { 192000, 16, 16, 8 };
    CHECK_STATUS(b.AllocateRenderDmaEngine(ctx, &wide, FALSE, &e[0], &cf), STATUS_SUCCESS);
    CHECK_STATUS(b.AllocateRenderDmaEngine(ctx, &wide, FALSE, &e[1], &cf), STATUS_INSUFFICIENT_RESOURCES);
    CHECK_STATUS(b.AllocateRenderDmaEngine(ctx, &fmt48, FALSE, &e[1], &cf), STATUS_SUCCESS);
    CHECK_STATUS(b.ChangeBandwidthAllocation(ctx, e[1], &wide, &cf), STATUS_INSUFFICIENT_RESOURCES);
    CHECK(cf.ConverterFormat == 0x0011);   /* the refused change kept the old format */
    CHECK_STATUS(b.FreeDmaEngine(ctx, e[0]), STATUS_SUCCESS);
    CHECK_STATUS(b.ChangeBandwidthAllocation(ctx, e[1], &wide, &cf), STATUS_SUCCESS);
    /* DMA memory: with the cap at what is in use, no buffer can be had, and the refused
       call takes no page. */
    ULONG used = pages(s);
    CHECK_STATUS(AzaliaSetPageLimit(s, (LONG)used), STATUS_SUCCESS);
    PMDL mdl = NULL; SIZE_T size = 0; UCHAR id = 0; ULONG fifo = 0;
    CHECK_STATUS(b.AllocateDmaBuffer(ctx, e[1], 4096, &mdl, &size, &id, &fifo), STATUS_INSUFFICIENT_RESOURCES);
    CHECK(pages(s) == used);
    /* Two pages left: a 4 KiB buffer and its BDL page fit, 8 KiB does not. */
    CHECK_STATUS(AzaliaSetPageLimit(s, (LONG)used + 2), STATUS_SUCCESS);
    CHECK_STATUS(b.AllocateDmaBuffer(ctx, e[1], 8192, &mdl, &size, &id, &fifo), STATUS_INSUFFICIENT_RESOURCES);
    CHECK(pages(s) == used);
    CHECK_STATUS(b.AllocateDmaBuffer(ctx, e[1], 4096, &mdl, &size, &id, &fifo), STATUS_SUCCESS);
    CHECK(pages(s) == used + 2);
    CHECK_STATUS(AzaliaSetPageLimit(s, -2), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(AzaliaSetPageLimit(s, -1), STATUS_SUCCESS);
    CHECK_STATUS(b.FreeDmaBuffer(ctx, e[1]), STATUS_SUCCESS);
    CHECK_STATUS(b.FreeDmaEngine(ctx, e[1]), STATUS_SUCCESS);
    CHECK(pages(s) == used);
    /* Unsolicited-response tags: 64 per codec. */
    UCHAR tags[65];
    for (int i = 0; i < 64; i++) CHECK_STATUS(b.RegisterEventCallback(ctx, on_unsolicited, NULL, &tags[i]), STATUS_SUCCESS);
    CHECK_STATUS(b.RegisterEventCallback(ctx, on_unsolicited, NULL, &tags[64]), STATUS_INSUFFICIENT_RESOURCES);
    CHECK_STATUS(b.UnregisterEventCallback(ctx, tags[17]), STATUS_SUCCESS);
    CHECK_STATUS(b.RegisterEventCallback(ctx, on_unsolicited, NULL, &tags[64]), STATUS_SUCCESS);
    CHECK(tags[64] == tags[17]);
    for (int i = 0; i < 64; i++) if (i != 17) CHECK_STATUS(b.UnregisterEventCallback(ctx, tags[i]), STATUS_SUCCESS);
    CHECK_STATUS(b.UnregisterEventCallback(ctx, tags[64]), STATUS_SUCCESS);
    /* Asynchronous verbs: 256 outstanding per client; more waits for completions. */
    static HDAUDIO_CODEC_TRANSFER t[257];
    memset(t, 0, sizeof t);
    for (int i = 0; i < 257; i++) t[i].Output.Command = 0x000F0000;
    CHECK_STATUS(b.TransferCodecVerbs(ctx, 200, t, verbs_complete, NULL), STATUS_SUCCESS);
    CHECK_STATUS(b.TransferCodecVerbs(ctx, 57, t + 200, verbs_complete, NULL), STATUS_INSUFFICIENT_RESOURCES);
    CHECK_STATUS(b.TransferCodecVerbs(ctx, 56, t + 200, verbs_complete, NULL), STATUS_SUCCESS);
    CHECK_STATUS(b.TransferCodecVerbs(ctx, 1, t + 256, verbs_complete, NULL), STATUS_INSUFFICIENT_RESOURCES);
    CHECK_STATUS(b.TransferCodecVerbs(ctx, 1, t + 256, NULL, NULL), STATUS_SUCCESS);   /* synchronous: not counted */
    CHECK_STATUS(AzaliaAdvanceFrames(s, 2000), STATUS_SUCCESS);
    CHECK(verbs_done == 2);
    CHECK(t[0].Input.IsValid && t[255].Input.IsValid && t[255].Input.Response == 0xA2A10001u);
    CHECK_STATUS(b.TransferCodecVerbs(ctx, 1, t + 256, verbs_complete, NULL), STATUS_SUCCESS);
    CHECK_STATUS(AzaliaAdvanceFrames(s, 48), STATUS_SUCCESS);
    CHECK(verbs_done == 3);
    b.InterfaceDereference(ctx);
}

static void test_bdl_memory(PAZALIA_SYSTEM s) {
    HDAUDIO_BUS_INTERFACE_BDL b;
    CHECK_STATUS(AzaliaQueryBusInterface(s, 0, &GUID_HDAUDIO_BUS_INTERFACE_BDL, sizeof b, 1, (PINTERFACE)&b), STATUS_SUCCESS);
    HANDLE h = NULL; HDAUDIO_CONVERTER_FORMAT cf;
    CHECK_STATUS(b.AllocateRenderDmaEngine(b.Context, &fmt48, FALSE, &h, &cf), STATUS_SUCCESS);
    ULONG used = pages(s);
    /* Contiguous data and a BDL page: three pages for 8 KiB; two are not enough. */
    CHECK_STATUS(AzaliaSetPageLimit(s, (LONG)used + 2), STATUS_SUCCESS);
    PVOID data = NULL; PHDAUDIO_BUFFER_DESCRIPTOR bdl = NULL;
    CHECK_STATUS(b.AllocateContiguousDmaBuffer(b.Context, h, 8192, &data, &bdl), STATUS_INSUFFICIENT_RESOURCES);
    CHECK(pages(s) == used && data == NULL && bdl == NULL);
    CHECK_STATUS(AzaliaSetPageLimit(s, (LONG)used + 3), STATUS_SUCCESS);
    CHECK_STATUS(b.AllocateContiguousDmaBuffer(b.Context, h, 8192, &data, &bdl), STATUS_SUCCESS);
    CHECK(pages(s) == used + 3);
    CHECK_STATUS(AzaliaSetPageLimit(s, -1), STATUS_SUCCESS);
    CHECK_STATUS(b.FreeContiguousDmaBuffer(b.Context, h), STATUS_SUCCESS);
    CHECK(pages(s) == used);
    b.InterfaceDereference(b.Context);   /* the last reference: the engine goes back */
}

int main(void) {
    PAZALIA_SYSTEM s = make("ich6");
    ULONG idle = pages(s);
    test_not_ready(s);
    test_too_small(s);
    test_resources(s);
    test_bdl_memory(s);
    CHECK(pages(s) == idle);
    /* Arguments of the fault entry points. */
    AZALIA_FAULTS f; memset(&f, 0, sizeof f);
    CHECK_STATUS(AzaliaSetFaults((PAZALIA_SYSTEM)0x40, &f), STATUS_INVALID_HANDLE);
    CHECK_STATUS(AzaliaSetPageLimit((PAZALIA_SYSTEM)0x40, 1), STATUS_INVALID_HANDLE);
    CHECK_STATUS(AzaliaGetAllocatedPages(s, NULL), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(AzaliaDestroySystem(s), STATUS_SUCCESS);
    CHECK_STATUS(AzaliaSetFaults(s, &f), STATUS_INVALID_HANDLE);
    return CHECK_DONE();
}
