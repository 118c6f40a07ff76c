/* The memory endpoints of azalia.h: a DAC's memory sink keeps what a driver played (trimmed
   by FrameLimit), an ADC's memory source is what a driver records. Driven through the
   example drivers' verbs and graph walk (examples/driver.h). */
#include "../../../examples/driver.h"
#include "check.h"

/* The shipped codec dumps (the test passes their folder). */
#ifndef DUMP_DIR
#error "DUMP_DIR: the folder of the codec dumps"
#endif

#define FRAMES 3000
#define BYTES (FRAMES * 4)

static unsigned char noise[BYTES];

static void render_on(PAZALIA_SYSTEM s, UCHAR address) {
    HDAUDIO_BUS_INTERFACE_V2 bus;
    CHECK_STATUS(AzaliaQueryBusInterface(s, address, &GUID_HDAUDIO_BUS_INTERFACE_V2, sizeof bus, 1, (PINTERFACE)&bus), STATUS_SUCCESS);
    CODEC_PATH path;
    CHECK(find_path(&bus, 1, &path));
    HDAUDIO_STREAM_FORMAT f = { 48000, 16, 16, 2 };
    HANDLE h; HDAUDIO_CONVERTER_FORMAT cf; PMDL mdl; SIZE_T size, off; UCHAR id; ULONG fifo;
    CHECK_STATUS(bus.AllocateRenderDmaEngine(bus.Context, &f, FALSE, &h, &cf), STATUS_SUCCESS);
    CHECK_STATUS(bus.AllocateDmaBufferWithNotification(bus.Context, h, 2, 4096, &mdl, &size, &off, &id, &fifo), STATUS_SUCCESS);
    CHECK(program_path(&bus, &path, cf.ConverterFormat, id, 1));
    unsigned char *buffer = MmGetSystemAddressForMdlSafe(mdl, NormalPagePriority);
    size_t half = size / 2, next = 0;
    for (size_t i = 0; i < size; i++) buffer[i] = next + i < BYTES ? noise[next + i] : 0;
    next = size;
    KEVENT e;
    CHECK_STATUS(start_stream(&bus, h, &e), STATUS_SUCCESS);
    LARGE_INTEGER timeout; timeout.QuadPart = -10000000;
    for (int which = 0; next < BYTES + 2 * half; which ^= 1, next += half) {
        CHECK_STATUS(KeWaitForSingleObject(&e, Executive, KernelMode, FALSE, &timeout), STATUS_SUCCESS);
        for (size_t i = 0; i < half; i++) buffer[which * half + i] = next + i < BYTES ? noise[next + i] : 0;
    }
    end_stream(&bus, h, &e, mdl, size);
}

static void capture(PAZALIA_SYSTEM s) {
    HDAUDIO_BUS_INTERFACE_V2 bus;
    CHECK_STATUS(AzaliaQueryBusInterface(s, 0, &GUID_HDAUDIO_BUS_INTERFACE_V2, sizeof bus, 1, (PINTERFACE)&bus), STATUS_SUCCESS);
    CODEC_PATH path;
    CHECK(find_path(&bus, 0, &path));
    HDAUDIO_STREAM_FORMAT f = { 48000, 16, 16, 2 };
    HANDLE h; HDAUDIO_CONVERTER_FORMAT cf; PMDL mdl; SIZE_T size, off; UCHAR id; ULONG fifo;
    CHECK_STATUS(bus.AllocateCaptureDmaEngine(bus.Context, 0, &f, &h, &cf), STATUS_SUCCESS);
    CHECK_STATUS(bus.AllocateDmaBufferWithNotification(bus.Context, h, 2, 4096, &mdl, &size, &off, &id, &fifo), STATUS_SUCCESS);
    CHECK(program_path(&bus, &path, cf.ConverterFormat, id, 0));
    const unsigned char *buffer = MmGetSystemAddressForMdlSafe(mdl, NormalPagePriority);
    static unsigned char got[BYTES + 4096];
    size_t half = size / 2, have = 0;
    KEVENT e;
    CHECK_STATUS(start_stream(&bus, h, &e), STATUS_SUCCESS);
    LARGE_INTEGER timeout; timeout.QuadPart = -10000000;
    for (int which = 0; have < BYTES; which ^= 1, have += half) {
        CHECK_STATUS(KeWaitForSingleObject(&e, Executive, KernelMode, FALSE, &timeout), STATUS_SUCCESS);
        memcpy(got + have, buffer + which * half, half);
    }
    end_stream(&bus, h, &e, mdl, size);
    CHECK(memcmp(got, noise, BYTES) == 0);
}

int main(void) {
    ULONG x = 12345;
    for (int i = 0; i < BYTES; i++) { x = x * 1103515245u + 12345u; noise[i] = (unsigned char)(x >> 16); }
    AZALIA_ENDPOINT sink, source;
    memset(&sink, 0, sizeof sink);
    memset(&source, 0, sizeof source);
    sink.Kind = AzaliaEndpointMemory;
    sink.FrameLimit = FRAMES;
    source.Kind = AzaliaEndpointMemory;
    source.Data = noise;
    source.DataLength = BYTES;
    source.Format.SampleRate = 48000; source.Format.ValidBitsPerSample = 16;
    source.Format.ContainerSize = 16; source.Format.NumberOfChannels = 2;
    AZALIA_CODEC codec = { 0, 1, 1, 1, &sink, 1, &source };
    PAZALIA_SYSTEM s;
    CHECK_STATUS(AzaliaCreateSystem("skylake-pch", &codec, 1, &s), STATUS_SUCCESS);
    render_on(s, 0);
    static unsigned char kept[BYTES + 16];
    SIZE_T available = 0;
    CHECK_STATUS(AzaliaReadMemorySink(s, 0, 0, kept, sizeof kept, &available), STATUS_SUCCESS);
    CHECK(available == BYTES);
    CHECK(memcmp(kept, noise, BYTES) == 0);
    capture(s);
    CHECK_STATUS(AzaliaDestroySystem(s), STATUS_SUCCESS);
    /* Bad endpoint descriptions are refused. */
    source.Data = NULL;
    CHECK_STATUS(AzaliaCreateSystem("ich6", &codec, 1, &s), STATUS_INVALID_PARAMETER);
    AZALIA_ENDPOINT loop; memset(&loop, 0, sizeof loop);
    loop.Kind = AzaliaEndpointLoopback; loop.Peer = 5;
    AZALIA_CODEC bad = { 0, 1, 1, 1, &loop, 0, NULL };
    CHECK_STATUS(AzaliaCreateSystem("ich6", &bad, 1, &s), STATUS_INVALID_PARAMETER);
    AZALIA_CODEC twice[2] = { { 0, 1, 1, 0, NULL, 0, NULL }, { 0, 1, 1, 0, NULL, 0, NULL } };
    CHECK_STATUS(AzaliaCreateSystem("ich6", twice, 2, &s), STATUS_INVALID_PARAMETER);

    /* A real chip from its dump beside the virtual codec: the memory sink at its default
       output pin keeps what a driver played through the chip's own graph. */
    AZALIA_DUMP_CODEC chip;
    memset(&chip, 0, sizeof chip);
    chip.Address = 2;
    chip.Path = DUMP_DIR "/alc269vc-lenovo-thinkpad-t530.txt";
    chip.Output.Kind = AzaliaEndpointMemory;
    chip.Output.FrameLimit = FRAMES;
    AZALIA_CODEC plain = { 0, 1, 1, 0, NULL, 0, NULL };
    CHECK_STATUS(AzaliaCreateSystemEx("ich9", &plain, 1, &chip, 1, &s), STATUS_SUCCESS);
    render_on(s, 2);
    available = 0;
    CHECK_STATUS(AzaliaReadMemorySink(s, 2, 0, kept, sizeof kept, &available), STATUS_SUCCESS);
    CHECK(available == BYTES);
    CHECK(memcmp(kept, noise, BYTES) == 0);
    CHECK_STATUS(AzaliaDestroySystem(s), STATUS_SUCCESS);
    /* Refused: a file that is no codec dump, an address taken, an endpoint a pin cannot
       have, no path at all. */
    chip.Path = DUMP_DIR "/../CDriverTests/C/check.h";
    CHECK_STATUS(AzaliaCreateSystemEx("ich9", NULL, 0, &chip, 1, &s), STATUS_INVALID_PARAMETER);
    chip.Path = DUMP_DIR "/alc269vc-lenovo-thinkpad-t530.txt#7";
    CHECK_STATUS(AzaliaCreateSystemEx("ich9", NULL, 0, &chip, 1, &s), STATUS_INVALID_PARAMETER);
    chip.Path = DUMP_DIR "/alc269vc-lenovo-thinkpad-t530.txt";
    chip.Address = 0;
    CHECK_STATUS(AzaliaCreateSystemEx("ich9", &plain, 1, &chip, 1, &s), STATUS_INVALID_PARAMETER);
    chip.Output.Kind = AzaliaEndpointLoopback;
    CHECK_STATUS(AzaliaCreateSystemEx("ich9", NULL, 0, &chip, 1, &s), STATUS_INVALID_PARAMETER);
    chip.Output.Kind = AzaliaEndpointNone;
    chip.Path = NULL;
    CHECK_STATUS(AzaliaCreateSystemEx("ich9", NULL, 0, &chip, 1, &s), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(AzaliaCreateSystemEx("ich9", NULL, 0, NULL, 1, &s), STATUS_INVALID_PARAMETER);
    return CHECK_DONE();
}
