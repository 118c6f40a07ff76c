/*
 * capture: a function driver that records from the HD Audio bus (V2).
 *
 *   capture IN.wav OUT.wav [CODEC-DUMP[#N]]
 *
 * The machine's codec plays IN.wav into its first ADC (as a microphone would). The driver
 * walks the widget graph to find an ADC and the input pin it listens to, programs both,
 * allocates a capture engine and a DMA buffer with two notifications, and copies each
 * half out as its notification event fires, until it has as many frames as IN.wav; it
 * writes them to OUT.wav and checks that they equal IN.wav's samples bit for bit. With a
 * codec dump (a real chip's /proc/asound codec file) the machine's codec is that chip, and
 * IN.wav comes in at its default input pin.
 */
#include "driver.h"

#define BUFFER_BYTES 16384

int main(int argc, char **argv) {
    if (argc != 3 && argc != 4) FAIL("usage: capture IN.wav OUT.wav [CODEC-DUMP[#N]]");
    WAV in;
    if (!wav_read(argv[1], &in) || in.format.ContainerSize < 16) FAIL("capture: %s is not a PCM WAV file of 16 bits or more", argv[1]);

    AZALIA_ENDPOINT source;
    memset(&source, 0, sizeof source);
    source.Kind = AzaliaEndpointWavFile;
    source.Path = argv[1];
    PAZALIA_SYSTEM machine;
    if (!NT_SUCCESS(make_machine(argc == 4 ? argv[3] : NULL, &source, 0, &machine))) FAIL("capture: no machine");

    HDAUDIO_BUS_INTERFACE_V2 bus;
    NTSTATUS status = AzaliaQueryBusInterface(machine, 0, &GUID_HDAUDIO_BUS_INTERFACE_V2, sizeof bus, 1, (PINTERFACE)&bus);
    if (!NT_SUCCESS(status)) FAIL("capture: query interface: 0x%08x", (unsigned)status);
    CODEC_PATH path;
    if (!find_path(&bus, 0, &path)) FAIL("capture: no ADC listens to an input pin");
    print_path("capture", &path, 0);

    UCHAR codecAddress, fg;
    bus.GetResourceInformation(bus.Context, &codecAddress, &fg);
    HANDLE engine;
    HDAUDIO_CONVERTER_FORMAT converter;
    status = bus.AllocateCaptureDmaEngine(bus.Context, codecAddress, &in.format, &engine, &converter);
    if (!NT_SUCCESS(status)) FAIL("capture: AllocateCaptureDmaEngine: 0x%08x", (unsigned)status);
    PMDL mdl;
    SIZE_T size, offset;
    UCHAR streamId;
    ULONG fifo;
    status = bus.AllocateDmaBufferWithNotification(bus.Context, engine, 2, BUFFER_BYTES, &mdl, &size, &offset, &streamId, &fifo);
    if (!NT_SUCCESS(status)) FAIL("capture: AllocateDmaBufferWithNotification: 0x%08x", (unsigned)status);
    if (!program_path(&bus, &path, converter.ConverterFormat, streamId, 0)) FAIL("capture: the codec refused its programming");

    const unsigned char *buffer = (const unsigned char *)MmGetSystemAddressForMdlSafe(mdl, NormalPagePriority) + offset;
    size_t half = size / 2, got = 0;
    unsigned char *recorded = malloc(in.bytes + size);
    if (!recorded) FAIL("capture: out of memory");
    KEVENT ready;
    status = start_stream(&bus, engine, &ready);
    if (!NT_SUCCESS(status)) FAIL("capture: the engine did not start: 0x%08x", (unsigned)status);

    LARGE_INTEGER timeout;
    timeout.QuadPart = -10LL * 1000 * 1000;
    int which = 0;
    while (got < in.bytes) {
        if (KeWaitForSingleObject(&ready, Executive, KernelMode, FALSE, &timeout) != STATUS_SUCCESS)
            FAIL("capture: no notification within a second");
        memcpy(recorded + got, buffer + which * half, half);   /* the half the engine just filled */
        which ^= 1;
        got += half;
    }
    end_stream(&bus, engine, &ready, mdl, size);
    AzaliaDestroySystem(machine);

    if (!wav_write(argv[2], &in.format, recorded, in.bytes)) FAIL("capture: cannot write %s", argv[2]);
    if (memcmp(recorded, in.data, in.bytes) != 0) {
        size_t at = 0;
        while (at < in.bytes && recorded[at] == in.data[at]) at++;
        FAIL("capture: the recording differs from %s at byte %zu", argv[1], at);
    }
    printf("captured %zu bytes: %s equals %s bit for bit\n", in.bytes, argv[2], argv[1]);
    free(recorded);
    free(in.data);
    return 0;
}
