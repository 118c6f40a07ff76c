/* The loopback endpoint of azalia.h: DAC 0's output is what ADC 0 records. A driver plays
   noise and records at the same time, both engines started together with one
   SetDmaEngineState call and refilled or drained by half-buffers as their events fire;
   what it records is what it played, after the link's latency, bit for bit. */
#include <string.h>
#include "../../../examples/driver.h"
#include "check.h"

#define FRAMES 6000
#define BYTES (FRAMES * 4)
#define BUFFER 4096

static unsigned char noise[BYTES];
static unsigned char got[BYTES + 8 * BUFFER];

int main(void) {
    ULONG x = 777;
    for (int i = 0; i < BYTES; i++) { x = x * 1103515245u + 12345u; noise[i] = (unsigned char)(x >> 16); }
    noise[0] = noise[1] = 0x5A;   /* the first sample is not silence: it marks the start */
    AZALIA_ENDPOINT loop; memset(&loop, 0, sizeof loop);
    loop.Kind = AzaliaEndpointLoopback;
    loop.Peer = 0;
    AZALIA_CODEC codec = { 0, 1, 1, 1, &loop, 0, NULL };
    PAZALIA_SYSTEM s = NULL;
    CHECK_STATUS(AzaliaCreateSystem("skylake-pch", &codec, 1, &s), STATUS_SUCCESS);
    HDAUDIO_BUS_INTERFACE_V2 bus;
    CHECK_STATUS(AzaliaQueryBusInterface(s, 0, &GUID_HDAUDIO_BUS_INTERFACE_V2, sizeof bus, 1, (PINTERFACE)&bus), STATUS_SUCCESS);
    PVOID ctx = bus.Context;
    CODEC_PATH out, in;
    CHECK(find_path(&bus, 1, &out));
    CHECK(find_path(&bus, 0, &in));
    HDAUDIO_STREAM_FORMAT f = { 48000, 16, 16, 2 };
    HANDLE h[2]; HDAUDIO_CONVERTER_FORMAT cf[2];
    CHECK_STATUS(bus.AllocateRenderDmaEngine(ctx, &f, FALSE, &h[0], &cf[0]), STATUS_SUCCESS);
    CHECK_STATUS(bus.AllocateCaptureDmaEngine(ctx, 0, &f, &h[1], &cf[1]), STATUS_SUCCESS);
    PMDL mdl[2]; SIZE_T size[2], offset; UCHAR id[2]; ULONG fifo;
    KEVENT e[2];
    for (int i = 0; i < 2; i++) {
        CHECK_STATUS(bus.AllocateDmaBufferWithNotification(ctx, h[i], 2, BUFFER, &mdl[i], &size[i], &offset, &id[i], &fifo), STATUS_SUCCESS);
        KeInitializeEvent(&e[i], SynchronizationEvent, FALSE);
        CHECK_STATUS(bus.RegisterNotificationEvent(ctx, h[i], &e[i]), STATUS_SUCCESS);
    }
    CHECK(program_path(&bus, &out, cf[0].ConverterFormat, id[0], 1));
    CHECK(program_path(&bus, &in, cf[1].ConverterFormat, id[1], 0));
    unsigned char *play = MmGetSystemAddressForMdlSafe(mdl[0], NormalPagePriority);
    const unsigned char *rec = MmGetSystemAddressForMdlSafe(mdl[1], NormalPagePriority);
    size_t half = BUFFER / 2, next = 0, have = 0;
    for (size_t i = 0; i < BUFFER; i++) play[i] = next + i < BYTES ? noise[next + i] : 0;
    next = BUFFER;
    CHECK_STATUS(bus.SetDmaEngineState(ctx, StopState, 2, h), STATUS_SUCCESS);
    CHECK_STATUS(bus.SetDmaEngineState(ctx, RunState, 2, h), STATUS_SUCCESS);   /* together (SSYNC) */
    LARGE_INTEGER timeout; timeout.QuadPart = -10000000;
    for (int which = 0; have + half <= sizeof got; which ^= 1) {
        CHECK_STATUS(KeWaitForSingleObject(&e[0], Executive, KernelMode, FALSE, &timeout), STATUS_SUCCESS);
        for (size_t i = 0; i < half; i++) play[which * half + i] = next + i < BYTES ? noise[next + i] : 0;
        next += half;
        CHECK_STATUS(KeWaitForSingleObject(&e[1], Executive, KernelMode, FALSE, &timeout), STATUS_SUCCESS);
        memcpy(got + have, rec + which * half, half);
        have += half;
    }
    CHECK_STATUS(bus.SetDmaEngineState(ctx, StopState, 2, h), STATUS_SUCCESS);
    CHECK_STATUS(bus.SetDmaEngineState(ctx, ResetState, 2, h), STATUS_SUCCESS);
    size_t start = 0;
    while (start < sizeof got && got[start] == 0) start++;
    CHECK(start % 4 == 0 && start < 4 * BUFFER);
    printf("loopback latency: %zu frames\n", start / 4);
    CHECK(start + BYTES <= sizeof got && memcmp(got + start, noise, BYTES) == 0);
    for (int i = 0; i < 2; i++) {
        CHECK_STATUS(bus.UnregisterNotificationEvent(ctx, h[i], &e[i]), STATUS_SUCCESS);
        CHECK_STATUS(bus.FreeDmaBufferWithNotification(ctx, h[i], mdl[i], size[i]), STATUS_SUCCESS);
        CHECK_STATUS(bus.FreeDmaEngine(ctx, h[i]), STATUS_SUCCESS);
    }
    bus.InterfaceDereference(ctx);
    CHECK_STATUS(AzaliaDestroySystem(s), STATUS_SUCCESS);
    return CHECK_DONE();
}
