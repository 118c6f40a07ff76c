/*
 * What the two example function drivers share: sending verbs through TransferCodecVerbs,
 * walking the codec's widget graph, programming a converter and its pin, and reading and
 * writing 16-bit PCM WAV files. Written against hdaudio.h as for the WDK; only main() in
 * each example uses Azalia's own entry API (azalia.h) to build the machine.
 */
#ifndef EXAMPLE_DRIVER_H
#define EXAMPLE_DRIVER_H

#include <stdio.h>
#include <stdlib.h>
#include "azalia.h"

/* Verbs (HD Audio specification, section 7.3). */
#define VERB_GET_PARAMETER          0xF00
#define VERB_GET_CONNECTION_ENTRY   0xF02
#define VERB_GET_CONFIG_DEFAULT     0xF1C
#define VERB_SET_POWER_STATE        0x705
#define VERB_SET_STREAM_CHANNEL     0x706
#define VERB_SET_PIN_CONTROL        0x707
#define VERB_SET_CONNECTION_SELECT  0x701
#define VERB4_SET_CONVERTER_FORMAT  0x2
#define PARAM_SUBORDINATE_COUNT     0x04
#define PARAM_FUNCTION_GROUP_TYPE   0x05
#define PARAM_WIDGET_CAPS           0x09
#define PARAM_PIN_CAPS              0x0C
#define PARAM_CONNECTION_LIST_LEN   0x0E
#define WIDGET_OUTPUT 0x0
#define WIDGET_INPUT  0x1
#define WIDGET_PIN    0x4

/* One verb with a 12-bit verb id and 8-bit payload, sent and answered synchronously. */
static inline int send_verb(HDAUDIO_BUS_INTERFACE_V2 *bus, UCHAR node, ULONG verb, UCHAR payload, ULONG *response) {
    HDAUDIO_CODEC_TRANSFER t;
    memset(&t, 0, sizeof t);
    t.Output.Verb8.Node = node;
    t.Output.Verb8.VerbId = verb;
    t.Output.Verb8.Data = payload;
    NTSTATUS status = bus->TransferCodecVerbs(bus->Context, 1, &t, NULL, NULL);
    if (!NT_SUCCESS(status) || !t.Input.IsValid) {
        fprintf(stderr, "verb %03x to node %u: status 0x%08x, valid %u\n", (unsigned)verb, node, (unsigned)status, t.Input.IsValid);
        return 0;
    }
    if (response) *response = t.Input.Response;
    return 1;
}

/* SET_CONVERTER_FORMAT: a 4-bit verb id with a 16-bit payload. */
static inline int set_converter_format(HDAUDIO_BUS_INTERFACE_V2 *bus, UCHAR node, USHORT format) {
    HDAUDIO_CODEC_TRANSFER t;
    memset(&t, 0, sizeof t);
    t.Output.Verb16.Node = node;
    t.Output.Verb16.VerbId = VERB4_SET_CONVERTER_FORMAT;
    t.Output.Verb16.Data = format;
    return NT_SUCCESS(bus->TransferCodecVerbs(bus->Context, 1, &t, NULL, NULL)) && t.Input.IsValid;
}

static inline int parameter(HDAUDIO_BUS_INTERFACE_V2 *bus, UCHAR node, UCHAR id, ULONG *value) {
    return send_verb(bus, node, VERB_GET_PARAMETER, id, value);
}

/* The path a driver found: a converter, the pin it is wired to, and the pin's index of
   the converter in the connection list (for SET_CONNECTION_SELECT). */
typedef struct { UCHAR converter, pin, select; } CODEC_PATH;

/* The connection list entry `index` of `node` (short form: four 8-bit entries per verb). */
static inline int connection(HDAUDIO_BUS_INTERFACE_V2 *bus, UCHAR node, ULONG index, UCHAR *entry) {
    ULONG r;
    if (!send_verb(bus, node, VERB_GET_CONNECTION_ENTRY, (UCHAR)(index & ~3u), &r)) return 0;
    *entry = (UCHAR)(r >> (8 * (index & 3)));
    return 1;
}

/*
 * Walks root -> audio function group -> widgets. For render, finds an output-capable pin
 * that is connected to a jack and whose connection list holds an audio output converter
 * (DAC); for capture, an audio input converter (ADC) whose connection list holds an
 * input-capable pin.
 */
static inline int find_path(HDAUDIO_BUS_INTERFACE_V2 *bus, int render, CODEC_PATH *path) {
    UCHAR codec = 0, fgStart = 0;
    bus->GetResourceInformation(bus->Context, &codec, &fgStart);
    ULONG root, sub, type;
    if (!parameter(bus, 0, PARAM_SUBORDINATE_COUNT, &root)) return 0;
    UCHAR firstGroup = (UCHAR)(root >> 16), groups = (UCHAR)root;
    for (UCHAR g = firstGroup; g < firstGroup + groups; g++) {
        if (!parameter(bus, g, PARAM_FUNCTION_GROUP_TYPE, &type) || (type & 0xFF) != 1) continue;   /* audio */
        if (!parameter(bus, g, PARAM_SUBORDINATE_COUNT, &sub)) return 0;
        UCHAR first = (UCHAR)(sub >> 16), count = (UCHAR)sub;
        printf("codec %u: audio function group at node %u (bus says %u), widgets %u..%u\n",
               codec, g, fgStart, first, first + count - 1);
        for (UCHAR n = first; n < first + count; n++) {
            ULONG caps, len;
            if (!parameter(bus, n, PARAM_WIDGET_CAPS, &caps)) return 0;
            ULONG kind = (caps >> 20) & 0xF;
            /* Render: start at pins and look for a DAC behind them. Capture: start at ADCs. */
            if ((render && kind != WIDGET_PIN) || (!render && kind != WIDGET_INPUT)) continue;
            if (render) {
                ULONG pinCaps, config;
                if (!parameter(bus, n, PARAM_PIN_CAPS, &pinCaps) || !(pinCaps & (1u << 4))) continue;   /* output capable */
                if (!send_verb(bus, n, VERB_GET_CONFIG_DEFAULT, 0, &config)) return 0;
                if ((config >> 30) == 1) continue;   /* port connectivity: no physical connection */
            }
            if (!parameter(bus, n, PARAM_CONNECTION_LIST_LEN, &len)) return 0;
            for (ULONG i = 0; i < (len & 0x7F); i++) {
                UCHAR peer, wantKind = render ? WIDGET_OUTPUT : WIDGET_PIN;
                ULONG peerCaps;
                if (!connection(bus, n, i, &peer) || !parameter(bus, peer, PARAM_WIDGET_CAPS, &peerCaps)) return 0;
                if (((peerCaps >> 20) & 0xF) != wantKind) continue;
                if (!render) {
                    ULONG pinCaps;
                    if (!parameter(bus, peer, PARAM_PIN_CAPS, &pinCaps) || !(pinCaps & (1u << 5))) continue;   /* input capable */
                }
                path->converter = render ? peer : n;
                path->pin = render ? n : peer;
                path->select = (UCHAR)i;
                return 1;
            }
        }
    }
    return 0;
}

/* Powers the converter and pin, sets the converter's format and stream, enables the pin. */
static inline int program_path(HDAUDIO_BUS_INTERFACE_V2 *bus, const CODEC_PATH *path, USHORT format, UCHAR streamId, int render) {
    return send_verb(bus, path->converter, VERB_SET_POWER_STATE, 0, NULL)
        && send_verb(bus, path->pin, VERB_SET_POWER_STATE, 0, NULL)
        && set_converter_format(bus, path->converter, format)
        && send_verb(bus, path->converter, VERB_SET_STREAM_CHANNEL, (UCHAR)(streamId << 4), NULL)
        && send_verb(bus, render ? path->pin : path->converter, VERB_SET_CONNECTION_SELECT, path->select, NULL)
        && send_verb(bus, path->pin, VERB_SET_PIN_CONTROL, render ? 0x40 : 0x20, NULL);
}

/* A PCM WAV file's format and data. */
typedef struct {
    HDAUDIO_STREAM_FORMAT format;
    unsigned char *data;
    size_t bytes;
} WAV;

static inline ULONG le32(const unsigned char *p) { return p[0] | p[1] << 8 | p[2] << 16 | (ULONG)p[3] << 24; }
static inline USHORT le16(const unsigned char *p) { return (USHORT)(p[0] | p[1] << 8); }

static inline int wav_read(const char *path, WAV *wav) {
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    unsigned char header[12], chunk[8], fmt[16];
    int ok = fread(header, 1, 12, f) == 12 && !memcmp(header, "RIFF", 4) && !memcmp(header + 8, "WAVE", 4);
    int haveFormat = 0;
    wav->data = NULL;
    while (ok && fread(chunk, 1, 8, f) == 8) {
        ULONG size = le32(chunk + 4);
        if (!memcmp(chunk, "fmt ", 4) && size >= 16) {
            ok = fread(fmt, 1, 16, f) == 16 && le16(fmt) == 1 && !fseek(f, (long)(size - 16 + (size & 1)), SEEK_CUR);
            wav->format.NumberOfChannels = le16(fmt + 2);
            wav->format.SampleRate = le32(fmt + 4);
            wav->format.ContainerSize = le16(fmt + 14);
            wav->format.ValidBitsPerSample = le16(fmt + 14);
            haveFormat = 1;
        } else if (!memcmp(chunk, "data", 4) && haveFormat) {
            wav->data = malloc(size ? size : 1);
            wav->bytes = size;
            ok = wav->data && fread(wav->data, 1, size, f) == size;
            break;
        } else {
            ok = !fseek(f, (long)(size + (size & 1)), SEEK_CUR);
        }
    }
    fclose(f);
    return ok && wav->data != NULL;
}

static inline void put32(unsigned char *p, ULONG v) { p[0] = (unsigned char)v; p[1] = (unsigned char)(v >> 8); p[2] = (unsigned char)(v >> 16); p[3] = (unsigned char)(v >> 24); }
static inline void put16(unsigned char *p, USHORT v) { p[0] = (unsigned char)v; p[1] = (unsigned char)(v >> 8); }

static inline int wav_write(const char *path, const HDAUDIO_STREAM_FORMAT *format, const unsigned char *data, size_t bytes) {
    unsigned char h[44];
    USHORT block = (USHORT)(format->NumberOfChannels * format->ContainerSize / 8);
    memcpy(h, "RIFF", 4); put32(h + 4, (ULONG)(36 + bytes)); memcpy(h + 8, "WAVEfmt ", 8);
    put32(h + 16, 16); put16(h + 20, 1); put16(h + 22, format->NumberOfChannels); put32(h + 24, format->SampleRate);
    put32(h + 28, format->SampleRate * block); put16(h + 32, block); put16(h + 34, format->ContainerSize);
    memcpy(h + 36, "data", 4); put32(h + 40, (ULONG)bytes);
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    int ok = fwrite(h, 1, 44, f) == 44 && fwrite(data, 1, bytes, f) == bytes;
    return fclose(f) == 0 && ok;
}

/* Registers the notification event, then Stop and Run (Reset to Run is not a legal step). */
static inline NTSTATUS start_stream(HDAUDIO_BUS_INTERFACE_V2 *bus, HANDLE engine, PKEVENT event) {
    KeInitializeEvent(event, SynchronizationEvent, FALSE);
    NTSTATUS status = bus->RegisterNotificationEvent(bus->Context, engine, event);
    if (NT_SUCCESS(status)) status = bus->SetDmaEngineState(bus->Context, StopState, 1, &engine);
    if (NT_SUCCESS(status)) status = bus->SetDmaEngineState(bus->Context, RunState, 1, &engine);
    return status;
}

/* Stop, Reset, and give back the event, the buffer, the engine and the interface. */
static inline void end_stream(HDAUDIO_BUS_INTERFACE_V2 *bus, HANDLE engine, PKEVENT event, PMDL mdl, SIZE_T size) {
    bus->SetDmaEngineState(bus->Context, StopState, 1, &engine);
    bus->SetDmaEngineState(bus->Context, ResetState, 1, &engine);
    bus->UnregisterNotificationEvent(bus->Context, engine, event);
    bus->FreeDmaBufferWithNotification(bus->Context, engine, mdl, size);
    bus->FreeDmaEngine(bus->Context, engine);
    bus->InterfaceDereference(bus->Context);
}

#define FAIL(...) do { fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); return 1; } while (0)

#endif
