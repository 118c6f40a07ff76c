/*
 * azalia_types.h: the types of libazalia's own entry API (see azalia.h), which gives a C
 * program what the WDK gets from elsewhere: a machine with a controller and codecs, the
 * bus interfaces of IRP_MN_QUERY_INTERFACE, and link time.
 */
#ifndef AZALIA_TYPES_H
#define AZALIA_TYPES_H

#include "hdaudio.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A system: guest memory, a controller of a profile, codecs on its link, the bus driver. */
typedef struct _AZALIA_SYSTEM *PAZALIA_SYSTEM;

/* Where a codec's DAC sends its samples, or where its ADC takes them from. */
typedef enum _AZALIA_ENDPOINT_KIND {
    AzaliaEndpointNone = 0,      /* a DAC's samples are dropped; an ADC sends silence */
    AzaliaEndpointWavFile = 1,   /* Path: a WAV file written (DAC) or read (ADC) */
    AzaliaEndpointMemory = 2,    /* DAC: kept in memory (AzaliaReadMemorySink);
                                    ADC: Data/DataLength in the layout of Format */
    AzaliaEndpointLoopback = 3   /* DAC only: what it plays, ADC number Peer records */
} AZALIA_ENDPOINT_KIND;

typedef struct _AZALIA_ENDPOINT {
    AZALIA_ENDPOINT_KIND Kind;
    const char *Path;
    const void *Data;
    SIZE_T DataLength;
    HDAUDIO_STREAM_FORMAT Format;
    ULONG Peer;
    ULONGLONG FrameLimit;        /* DAC sinks: keep the first FrameLimit sample blocks and
                                    drop the rest (the silence a driver plays after its data),
                                    as a recording trimmed to the input; 0 keeps everything */
} AZALIA_ENDPOINT, *PAZALIA_ENDPOINT;

/* A virtual codec: its SDI address (0-14), its converters, and an endpoint per DAC
   (Sinks[i] for DAC i) and per ADC (Sources[i] for ADC i); missing ones are None. */
typedef struct _AZALIA_CODEC {
    UCHAR Address;
    UCHAR DacCount;
    UCHAR AdcCount;
    ULONG SinkCount;
    const AZALIA_ENDPOINT *Sinks;
    ULONG SourceCount;
    const AZALIA_ENDPOINT *Sources;
} AZALIA_CODEC, *PAZALIA_CODEC;

/* A codec built from a dump of a real chip: the text of /proc/asound/cardN/codec#M (as
   alsa-info collects it and tiwai/hda-emu keeps them). It answers every verb as the chip
   does; Output is the sink at its default output pin (the first line-out or speaker pin,
   by default configuration, that a DAC reaches), Input the source at its default input
   pin (line in or microphone, that reaches an ADC). */
typedef struct _AZALIA_DUMP_CODEC {
    UCHAR Address;
    const char *Path;            /* "FILE", or "FILE#N" for the file's N-th codec (from 0) */
    AZALIA_ENDPOINT Output;      /* None, WavFile or Memory (AzaliaReadMemorySink's Dac 0) */
    AZALIA_ENDPOINT Input;       /* None, WavFile or Memory */
} AZALIA_DUMP_CODEC, *PAZALIA_DUMP_CODEC;

/* Faults injected into the controller (azalia.h, AzaliaSetFaults), so a driver's error
   paths can be run: bit n of a mask names stream descriptor n (input engines first, then
   output, then bidirectional, as in the register file). */
typedef struct _AZALIA_FAULTS {
    ULONG SrstNeverLatches;      /* SDnCTL.SRST never reads back 1 after being set */
    ULONG SrstNeverClears;       /* SDnCTL.SRST never reads back 0 after being cleared */
    ULONG FifoErrors;            /* FIFOE in the first frame of every run */
    ULONG FifoNeverReady;        /* RUN accepted, SDnSTS.FIFORDY never reads 1 */
    ULONG RunNeverClears;        /* RUN keeps reading 1 (and the engine moving) after a clear */
    BOOLEAN CrstNeverCompletes;  /* GCTL.CRST never reads back 1 after being set */
} AZALIA_FAULTS, *PAZALIA_FAULTS;

/* Hooks through which the WDM routines of wdm.h reach the library (set by the library). */
typedef struct _AZALIA_WDM_HOOKS {
    NTSTATUS (*Wait)(PKEVENT Event, PLARGE_INTEGER Timeout);
    KIRQL (*CurrentIrql)(void);
    LONGLONG (*PhysicalAddress)(const void *Address);
} AZALIA_WDM_HOOKS;

/* Installs the hooks (the library does, when it builds its first system). */
VOID AzaliaSetWdmHooks(const AZALIA_WDM_HOOKS *Hooks);

/* Consumes a signal of the event for a wait: TRUE when it was signalled (a
   SynchronizationEvent is reset by it), atomically. */
BOOLEAN AzaliaTryAcquireEvent(PKEVENT Event);

#ifdef __cplusplus
}
#endif

#endif /* AZALIA_TYPES_H */
