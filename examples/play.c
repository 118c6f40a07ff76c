/*
 * play: a function driver that plays a WAV file through the HD Audio bus (V2).
 *
 *   play IN.wav OUT.wav [CODEC-DUMP[#N]]
 *
 * It queries HDAUDIO_BUS_INTERFACE_V2, walks the codec's widget graph to find an output
 * pin and the DAC behind it, programs both, allocates a render engine and a DMA buffer with
 * two notifications, and refills each half of the buffer as its notification event fires.
 * The machine's codec writes what its DAC receives to OUT.wav; at the end the program
 * checks that OUT.wav holds exactly the samples of IN.wav (exit status 0) or says where
 * they differ (exit status 1). With a codec dump (a real chip's /proc/asound codec file) the
 * machine's codec is that chip, and OUT.wav is what reaches its default output pin.
 */
#include "driver.h"

#define BUFFER_BYTES 16384

/* Copies the next piece of the file into one half of the cyclic buffer (silence after). */
static void fill(unsigned char *half, size_t halfBytes, const WAV *wav, size_t *next) {
    size_t n = wav->bytes > *next ? wav->bytes - *next : 0;
    if (n > halfBytes) n = halfBytes;
    memcpy(half, wav->data + *next, n);
    memset(half + n, 0, halfBytes - n);
    *next += halfBytes;
}

int main(int argc, char **argv) {
    if (argc != 3 && argc != 4) FAIL("usage: play IN.wav OUT.wav [CODEC-DUMP[#N]]");
    WAV in;
    if (!wav_read(argv[1], &in) || in.format.ContainerSize < 16) FAIL("play: %s is not a PCM WAV file of 16 bits or more", argv[1]);
    ULONG block = in.format.NumberOfChannels * in.format.ContainerSize / 8;
    ULONGLONG frames = in.bytes / block;

    /* The machine: an ICH9 controller with one codec whose output writes OUT.wav. */
    AZALIA_ENDPOINT sink;
    memset(&sink, 0, sizeof sink);
    sink.Kind = AzaliaEndpointWavFile;
    sink.Path = argv[2];
    sink.FrameLimit = frames;
    PAZALIA_SYSTEM machine;
    if (!NT_SUCCESS(make_machine(argc == 4 ? argv[3] : NULL, &sink, 1, &machine))) FAIL("play: no machine");

    /* IRP_MN_QUERY_INTERFACE, as the driver's AddDevice would send it to the bus. */
    HDAUDIO_BUS_INTERFACE_V2 bus;
    NTSTATUS status = AzaliaQueryBusInterface(machine, 0, &GUID_HDAUDIO_BUS_INTERFACE_V2, sizeof bus, 0x0100, (PINTERFACE)&bus);
    if (!NT_SUCCESS(status)) FAIL("play: query interface: 0x%08x", (unsigned)status);

    CODEC_PATH path;
    if (!find_path(&bus, 1, &path)) FAIL("play: no DAC reaches an output pin");
    print_path("render", &path, 1);

    HANDLE engine;
    HDAUDIO_CONVERTER_FORMAT converter;
    status = bus.AllocateRenderDmaEngine(bus.Context, &in.format, FALSE, &engine, &converter);
    if (!NT_SUCCESS(status)) FAIL("play: AllocateRenderDmaEngine: 0x%08x", (unsigned)status);
    PMDL mdl;
    SIZE_T size, offset;
    UCHAR streamId;
    ULONG fifo;
    status = bus.AllocateDmaBufferWithNotification(bus.Context, engine, 2, BUFFER_BYTES, &mdl, &size, &offset, &streamId, &fifo);
    if (!NT_SUCCESS(status)) FAIL("play: AllocateDmaBufferWithNotification: 0x%08x", (unsigned)status);
    if (!program_path(&bus, &path, converter.ConverterFormat, streamId, 1)) FAIL("play: the codec refused its programming");
    printf("stream %u, converter format 0x%04x, buffer %zu bytes, FIFO %u bytes\n",
           streamId, converter.ConverterFormat, (size_t)size, (unsigned)fifo);

    unsigned char *buffer = (unsigned char *)MmGetSystemAddressForMdlSafe(mdl, NormalPagePriority) + offset;
    size_t half = size / 2, next = 0;
    fill(buffer, half, &in, &next);
    fill(buffer + half, half, &in, &next);

    KEVENT done;
    status = start_stream(&bus, engine, &done);
    if (!NT_SUCCESS(status)) FAIL("play: the engine did not start: 0x%08x", (unsigned)status);

    /* Each notification: the half just played is free; refill it. Stop once a whole half
       of silence has followed the data (so every sample has left the FIFO). */
    size_t played = 0;
    int which = 0;
    LARGE_INTEGER timeout;
    timeout.QuadPart = -10LL * 1000 * 1000;   /* 1 s of link time */
    while (played < in.bytes + half) {
        if (KeWaitForSingleObject(&done, Executive, KernelMode, FALSE, &timeout) != STATUS_SUCCESS)
            FAIL("play: no notification within a second");
        fill(buffer + which * half, half, &in, &next);
        which ^= 1;
        played += half;
    }
    ULONG *position;
    if (NT_SUCCESS(bus.GetLinkPositionRegister(bus.Context, engine, &position)))
        printf("stopped at link position %u\n", (unsigned)READ_REGISTER_ULONG(position));

    end_stream(&bus, engine, &done, mdl, size);
    AzaliaDestroySystem(machine);   /* finishes OUT.wav */

    WAV out;
    if (!wav_read(argv[2], &out)) FAIL("play: %s was not written", argv[2]);
    if (out.bytes != in.bytes || memcmp(out.data, in.data, in.bytes) != 0) {
        size_t at = 0;
        while (at < in.bytes && at < out.bytes && in.data[at] == out.data[at]) at++;
        FAIL("play: %s differs from %s at byte %zu (%zu vs %zu bytes)", argv[2], argv[1], at, out.bytes, in.bytes);
    }
    printf("played %llu frames: %s equals %s bit for bit\n", (unsigned long long)frames, argv[2], argv[1]);
    free(in.data);
    free(out.data);
    return 0;
}
