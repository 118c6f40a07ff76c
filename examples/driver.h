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
#include <string.h>
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

/* The codec's audio function group as the driver reads it with verbs: every widget's
   capabilities, pin capabilities, default configuration, amplifier capabilities and
   connection list. */
#define MAX_WIDGETS 128
#define MAX_CONNECTIONS 64
#define MAX_PATH_NODES 9
#define WIDGET_MIXER     0x2
#define WIDGET_SELECTOR  0x3
#define WCAP_IN_AMP      (1u << 1)
#define WCAP_OUT_AMP     (1u << 2)
#define WCAP_AMP_OVERRIDE (1u << 3)
#define WCAP_POWER       (1u << 10)
#define PINCAP_OUT       (1u << 4)
#define PINCAP_IN        (1u << 5)
#define PINCAP_EAPD      (1u << 16)
#define PARAM_AMP_IN_CAPS  0x0D
#define PARAM_AMP_OUT_CAPS 0x12
#define VERB4_SET_AMP_GAIN_MUTE 0x3
#define VERB_SET_EAPD 0x70C

typedef struct {
    UCHAR node, type;
    ULONG caps, pinCaps, config, ampIn, ampOut;
    UCHAR connections[MAX_CONNECTIONS];
    ULONG connectionCount;
} WIDGET;

typedef struct {
    UCHAR codec, group, first, count;
    WIDGET widgets[MAX_WIDGETS];
} CODEC_GRAPH;

/* A path for the signal: nodes from the pin to the DAC (render) or from the ADC to the pin
   (capture), each node's widget as the graph walk read it (what programming the path needs,
   so it reads nothing again), the converter and the pin. */
typedef struct {
    UCHAR nodes[MAX_PATH_NODES];
    WIDGET widgets[MAX_PATH_NODES];
    ULONG length;
    UCHAR converter, pin;
} CODEC_PATH;

static inline WIDGET *widget(CODEC_GRAPH *g, UCHAR node) {
    return node >= g->first && node < g->first + g->count ? &g->widgets[node - g->first] : NULL;
}

/* A connection list, short form (four 7-bit entries a verb) or long (two 15-bit), with
   ranges expanded (an entry with the range bit stands for every node after the one before). */
static inline int read_connections(HDAUDIO_BUS_INTERFACE_V2 *bus, WIDGET *w) {
    ULONG info;
    if (!parameter(bus, w->node, PARAM_CONNECTION_LIST_LEN, &info)) return 0;
    ULONG length = info & 0x7F, isLong = (info >> 7) & 1, perVerb = isLong ? 2 : 4, previous = 0;
    w->connectionCount = 0;
    for (ULONG i = 0; i < length; i += perVerb) {
        ULONG r;
        if (!send_verb(bus, w->node, VERB_GET_CONNECTION_ENTRY, (UCHAR)i, &r)) return 0;
        for (ULONG j = 0; j < perVerb && i + j < length; j++) {
            ULONG raw = isLong ? (r >> (16 * j)) & 0xFFFF : (r >> (8 * j)) & 0xFF;
            ULONG isRange = isLong ? raw >> 15 : raw >> 7, id = isLong ? raw & 0x7FFF : raw & 0x7F;
            ULONG from = isRange && previous && previous < id ? previous + 1 : id;
            for (ULONG n = from; n <= id && w->connectionCount < MAX_CONNECTIONS; n++)
                w->connections[w->connectionCount++] = (UCHAR)n;
            previous = id;
        }
    }
    return 1;
}

/* Walks root -> the audio function group -> its widgets, and reads each one. */
static inline int read_graph(HDAUDIO_BUS_INTERFACE_V2 *bus, CODEC_GRAPH *g) {
    UCHAR fgStart = 0;
    memset(g, 0, sizeof *g);
    bus->GetResourceInformation(bus->Context, &g->codec, &fgStart);
    ULONG root, sub, type, ampIn = 0, ampOut = 0;
    if (!parameter(bus, 0, PARAM_SUBORDINATE_COUNT, &root)) return 0;
    UCHAR firstGroup = (UCHAR)(root >> 16), groups = (UCHAR)root;
    for (UCHAR fg = firstGroup; fg < firstGroup + groups; fg++) {
        if (!parameter(bus, fg, PARAM_FUNCTION_GROUP_TYPE, &type) || (type & 0xFF) != 1) continue;   /* audio */
        if (!parameter(bus, fg, PARAM_SUBORDINATE_COUNT, &sub)
            || !parameter(bus, fg, PARAM_AMP_IN_CAPS, &ampIn) || !parameter(bus, fg, PARAM_AMP_OUT_CAPS, &ampOut)) return 0;
        g->group = fg;
        g->first = (UCHAR)(sub >> 16);
        g->count = (UCHAR)sub < MAX_WIDGETS ? (UCHAR)sub : MAX_WIDGETS;
        printf("codec %u: audio function group at node %u (bus says %u), widgets %u..%u\n",
               g->codec, fg, fgStart, g->first, g->first + g->count - 1);
        for (UCHAR i = 0; i < g->count; i++) {
            WIDGET *w = &g->widgets[i];
            w->node = (UCHAR)(g->first + i);
            if (!parameter(bus, w->node, PARAM_WIDGET_CAPS, &w->caps)) return 0;
            w->type = (UCHAR)((w->caps >> 20) & 0xF);
            w->ampIn = ampIn;
            w->ampOut = ampOut;
            if ((w->caps & WCAP_AMP_OVERRIDE)
                && (!parameter(bus, w->node, PARAM_AMP_IN_CAPS, &w->ampIn) || !parameter(bus, w->node, PARAM_AMP_OUT_CAPS, &w->ampOut))) return 0;
            if (w->type == WIDGET_PIN
                && (!parameter(bus, w->node, PARAM_PIN_CAPS, &w->pinCaps) || !send_verb(bus, w->node, VERB_GET_CONFIG_DEFAULT, 0, &w->config))) return 0;
            if ((w->caps >> 8) & 1) { if (!read_connections(bus, w)) return 0; }   /* a connection list */
        }
        return 1;
    }
    return 0;
}

/* The shortest path from `from`, through mixers and selectors, to a widget of `endType`
   (or, when endNode is not 0, to that node); breadth first, at most MAX_PATH_NODES long. */
static inline int shortest_path(CODEC_GRAPH *g, UCHAR from, int endType, UCHAR endNode, CODEC_PATH *out) {
    UCHAR parent[256], seen[256] = { 0 }, queue[MAX_WIDGETS + 1], depth[256];
    ULONG head = 0, tail = 0;
    queue[tail++] = from; seen[from] = 1; depth[from] = 1;
    while (head < tail) {
        WIDGET *w = widget(g, queue[head++]);
        if (!w || depth[w->node] >= MAX_PATH_NODES) continue;   /* paths of up to 9 nodes */
        for (ULONG k = 0; k < w->connectionCount; k++) {
            UCHAR c = w->connections[k];
            WIDGET *next = widget(g, c);
            if (seen[c] || !next) continue;
            seen[c] = 1; parent[c] = w->node; depth[c] = (UCHAR)(depth[w->node] + 1);
            if (endNode ? c == endNode : next->type == endType) {
                ULONG n = depth[c];
                out->length = n;
                for (UCHAR at = c; n > 0; at = parent[at]) { out->nodes[--n] = at; if (at == from) break; }
                return 1;
            }
            if ((next->type == WIDGET_MIXER || next->type == WIDGET_SELECTOR) && tail < MAX_WIDGETS) queue[tail++] = c;
        }
    }
    return 0;
}

/* How a pin ranks as the default output (line out and speaker first, then headphones, then
   the rest; pins with a jack or a fixed device before those with none) and as the default
   input (line in and microphone first). */
static inline int output_rank(const WIDGET *w) {
    ULONG device = (w->config >> 20) & 0xF, base = device <= 1 ? 0 : device == 2 ? 1 : 2;
    return (int)((w->config >> 30) != 1 ? base : 3 + base);
}
static inline int input_rank(const WIDGET *w) {
    ULONG device = (w->config >> 20) & 0xF, base = device == 0x8 || device == 0xA ? 0 : 1;
    return (int)((w->config >> 30) != 1 ? base : 2 + base);
}

/* Copies the widgets of the path's nodes out of the graph. */
static inline void keep_widgets(CODEC_GRAPH *g, CODEC_PATH *path) {
    for (ULONG i = 0; i < path->length; i++) path->widgets[i] = *widget(g, path->nodes[i]);
}

/*
 * The default path. Render: the output-capable pins in rank order (node order within a
 * rank), the first from which a DAC is reached. Capture: the input-capable pins in rank
 * order, and for each the first ADC (in node order) that reaches it.
 */
static inline int find_path(HDAUDIO_BUS_INTERFACE_V2 *bus, int render, CODEC_PATH *path) {
    static CODEC_GRAPH g;
    if (!read_graph(bus, &g)) return 0;
    for (int rank = 0; rank < 6; rank++) {
        for (UCHAR i = 0; i < g.count; i++) {
            WIDGET *pin = &g.widgets[i];
            if (pin->type != WIDGET_PIN || !(pin->pinCaps & (render ? PINCAP_OUT : PINCAP_IN))) continue;
            if ((render ? output_rank(pin) : input_rank(pin)) != rank) continue;
            if (render) {
                if (!shortest_path(&g, pin->node, WIDGET_OUTPUT, 0, path)) continue;
                path->pin = pin->node;
                path->converter = path->nodes[path->length - 1];
                keep_widgets(&g, path);
                return 1;
            }
            for (UCHAR j = 0; j < g.count; j++) {
                if (g.widgets[j].type != WIDGET_INPUT || !shortest_path(&g, g.widgets[j].node, -1, pin->node, path)) continue;
                path->converter = g.widgets[j].node;
                path->pin = pin->node;
                keep_widgets(&g, path);
                return 1;
            }
        }
    }
    return 0;
}

/* Prints a path as "node -> node -> ...", in the direction the signal flows. */
static inline void print_path(const char *what, const CODEC_PATH *path, int render) {
    printf("%s path:", what);
    for (ULONG i = 0; i < path->length; i++)
        printf(" %s0x%02x", i ? "-> " : "", path->nodes[render ? path->length - 1 - i : i] );
    printf(" (converter 0x%02x, pin 0x%02x)\n", path->converter, path->pin);
}

/*
 * The machine an example runs on: an ICH9 controller with one codec at address 0, either
 * Azalia's virtual codec (dump NULL: the endpoint is DAC 0's sink or ADC 0's source) or the
 * chip of a codec dump file, "FILE" or "FILE#N" (the endpoint is its default output pin's
 * sink or default input pin's source).
 */
static inline NTSTATUS make_machine(const char *dump, const AZALIA_ENDPOINT *endpoint, int render, PAZALIA_SYSTEM *machine) {
    if (dump) {
        AZALIA_DUMP_CODEC chip;
        memset(&chip, 0, sizeof chip);
        chip.Path = dump;
        if (render) chip.Output = *endpoint; else chip.Input = *endpoint;
        return AzaliaCreateSystemEx("ich9", NULL, 0, &chip, 1, machine);
    }
    AZALIA_CODEC codec = { 0, 2, 2, render ? 1 : 0, render ? endpoint : NULL, render ? 0 : 1, render ? NULL : endpoint };
    return AzaliaCreateSystem("ich9", &codec, 1, machine);
}

/* SET_AMP_GAIN_MUTE of both channels of one amplifier: not muted, at its 0 dB step. */
static inline int unmute(HDAUDIO_BUS_INTERFACE_V2 *bus, UCHAR node, int output, ULONG index, ULONG caps) {
    HDAUDIO_CODEC_TRANSFER t;
    memset(&t, 0, sizeof t);
    t.Output.Verb16.Node = node;
    t.Output.Verb16.VerbId = VERB4_SET_AMP_GAIN_MUTE;
    t.Output.Verb16.Data = (USHORT)((output ? 0x8000 : 0x4000) | 0x3000 | (index & 0xF) << 8 | (caps & 0x7F));
    return NT_SUCCESS(bus->TransferCodecVerbs(bus->Context, 1, &t, NULL, NULL)) && t.Input.IsValid;
}

/*
 * Programs a path: the converter's format and stream; every node powered; each node
 * selecting (a mixer: unmuting the input of) the next one; every output amplifier and the
 * input amplifiers on the path unmuted; the pin enabled (OUT or IN) and its external
 * amplifier (EAPD) on where it has one.
 */
static inline int program_path(HDAUDIO_BUS_INTERFACE_V2 *bus, const CODEC_PATH *path, USHORT format, UCHAR streamId, int render) {
    if (!send_verb(bus, path->converter, VERB_SET_POWER_STATE, 0, NULL)
        || !set_converter_format(bus, path->converter, format)
        || !send_verb(bus, path->converter, VERB_SET_STREAM_CHANNEL, (UCHAR)(streamId << 4), NULL)) return 0;
    for (ULONG i = 0; i < path->length; i++) {
        const WIDGET *w = &path->widgets[i];
        if ((w->caps & WCAP_POWER) && !send_verb(bus, w->node, VERB_SET_POWER_STATE, 0, NULL)) return 0;
        ULONG k = MAX_CONNECTIONS;
        if (i + 1 < path->length)
            for (k = 0; k < w->connectionCount && w->connections[k] != path->nodes[i + 1]; k++) {}
        if (k < w->connectionCount) {
            if (w->type != WIDGET_MIXER && w->connectionCount > 1
                && !send_verb(bus, w->node, VERB_SET_CONNECTION_SELECT, (UCHAR)k, NULL)) return 0;
            if ((w->caps & WCAP_IN_AMP) && !unmute(bus, w->node, 0, k, w->ampIn)) return 0;
        } else if ((w->caps & WCAP_IN_AMP) && w->type == WIDGET_PIN && !unmute(bus, w->node, 0, 0, w->ampIn)) {
            return 0;
        }
        if ((w->caps & WCAP_OUT_AMP) && !unmute(bus, w->node, 1, 0, w->ampOut)) return 0;
    }
    const WIDGET *pin = &path->widgets[render ? 0 : path->length - 1];   /* the path's pin end */
    if (!send_verb(bus, path->pin, VERB_SET_PIN_CONTROL, render ? 0x40 : 0x20, NULL)) return 0;
    return !(render && (pin->pinCaps & PINCAP_EAPD)) || send_verb(bus, path->pin, VERB_SET_EAPD, 0x02, NULL);
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
