/*
 * hdaudio.h (Azalia): the HD Audio bus DDI of the Windows Driver Kit, for function drivers
 * built against libazalia. Type names, field names, field order and bit-field layout are
 * the WDK's (BASE, V2, V3 and BDL interfaces); the routines behind the tables are Azalia's
 * bus driver. Include wdm.h (Azalia's) first, or let this header include it.
 */
#ifndef AZALIA_HDAUDIO_H
#define AZALIA_HDAUDIO_H

#include "wdm.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Interface GUIDs for IRP_MN_QUERY_INTERFACE (published values). libazalia defines them;
   a driver that defines INITGUID before including this header gets its own copies. */
DEFINE_GUID(GUID_HDAUDIO_BUS_INTERFACE, 0xd2eaf88b, 0xab18, 0x41a8, 0xb6, 0x64, 0x8d, 0x59, 0x21, 0x67, 0x67, 0x1b);
DEFINE_GUID(GUID_HDAUDIO_BUS_INTERFACE_BDL, 0xb4d65397, 0x5634, 0x40b0, 0xb0, 0x68, 0xf5, 0xb9, 0xf8, 0xb9, 0x67, 0xa5);
DEFINE_GUID(GUID_HDAUDIO_BUS_INTERFACE_V2, 0xb52af5fb, 0x424b, 0x4bb9, 0xa1, 0x60, 0x5b, 0x38, 0xbe, 0x94, 0xe5, 0x68);
DEFINE_GUID(GUID_HDAUDIO_BUS_INTERFACE_V3, 0xdc25da12, 0xbcd1, 0x4c7f, 0x84, 0xe1, 0x02, 0xad, 0xb6, 0xdc, 0xdc, 0xbf);
DEFINE_GUID(GUID_HDAUDIO_BUS_CLASS, 0xbbd1a745, 0xadd6, 0x4575, 0x9c, 0x2e, 0x9b, 0x42, 0x8d, 0x1c, 0x32, 0x66);

#ifndef _HDAUDIO_CODEC_TRANSFER_
#define _HDAUDIO_CODEC_TRANSFER_

/* A codec verb as it goes out on the CORB: 8-bit payload form and 16-bit payload form. */
typedef struct _HDAUDIO_CODEC_COMMAND {
    union {
        struct {
            ULONG Data : 8;
            ULONG VerbId : 12;
            ULONG Node : 8;
            ULONG CodecAddress : 4;
        } Verb8;
        struct {
            ULONG Data : 16;
            ULONG VerbId : 4;
            ULONG Node : 8;
            ULONG CodecAddress : 4;
        } Verb16;
        ULONG Command;
    };
} HDAUDIO_CODEC_COMMAND, *PHDAUDIO_CODEC_COMMAND;

/* A RIRB entry: the response (bits 31:0), the SDI line it came in on, whether it was
   unsolicited, and, in the top bits of the 64, overrun and validity (IsValid is bit 63). */
typedef struct _HDAUDIO_CODEC_RESPONSE {
    union {
        struct {
            union {
                struct {
                    ULONG Response : 26;
                    ULONG Tag : 6;
                } Unsolicited;
                ULONG Response;
            };
            ULONG SDataIn : 4;
            ULONG IsUnsolicitedResponse : 1;
            ULONG : 25;
            ULONG HasFifoOverrun : 1;
            ULONG IsValid : 1;
        };
        ULONGLONG CompleteResponse;
    };
} HDAUDIO_CODEC_RESPONSE, *PHDAUDIO_CODEC_RESPONSE;

typedef struct _HDAUDIO_CODEC_TRANSFER {
    HDAUDIO_CODEC_COMMAND Output;
    HDAUDIO_CODEC_RESPONSE Input;
} HDAUDIO_CODEC_TRANSFER, *PHDAUDIO_CODEC_TRANSFER;

#endif /* _HDAUDIO_CODEC_TRANSFER_ */

typedef struct _HDAUDIO_STREAM_FORMAT {
    ULONG SampleRate;
    USHORT ValidBitsPerSample;
    USHORT ContainerSize;
    USHORT NumberOfChannels;
} HDAUDIO_STREAM_FORMAT, *PHDAUDIO_STREAM_FORMAT;

/* The 16-bit converter format (SDnFMT / SET_CONVERTER_FORMAT). The rate field's seven
   bits are DIV (8:10), MULT (11:13) and BASE (14); bit 7 is reserved. */
typedef struct _HDAUDIO_CONVERTER_FORMAT {
    union {
        struct {
            USHORT NumberOfChannels : 4;
            USHORT BitsPerSample : 3;
            USHORT : 1;
            USHORT SampleRate : 7;
            USHORT StreamType : 1;
        };
        USHORT ConverterFormat;
    };
} HDAUDIO_CONVERTER_FORMAT, *PHDAUDIO_CONVERTER_FORMAT;

typedef enum _HDAUDIO_STREAM_STATE {
    ResetState = 0,
    StopState = 1,
    PauseState = 1,
    RunState = 2
} HDAUDIO_STREAM_STATE, *PHDAUDIO_STREAM_STATE;

typedef VOID (NTAPI *PHDAUDIO_TRANSFER_COMPLETE_CALLBACK)(HDAUDIO_CODEC_TRANSFER *CodecTransfer, PVOID Context);
typedef VOID (NTAPI *PHDAUDIO_UNSOLICITED_RESPONSE_CALLBACK)(HDAUDIO_CODEC_RESPONSE Response, PVOID Context);

typedef struct _HDAUDIO_DEVICE_INFORMATION {
    USHORT Size;
    USHORT DeviceVersion;
    USHORT DriverVersion;
    USHORT CodecsDetected;
    BOOLEAN IsStripingSupported;
} HDAUDIO_DEVICE_INFORMATION, *PHDAUDIO_DEVICE_INFORMATION;

typedef struct _HDAUDIO_DEVICE_INFORMATION_V2 {
    USHORT Size;
    USHORT DeviceVersion;
    USHORT DriverVersion;
    USHORT CodecsDetected;
    BOOLEAN IsStripingSupported;
    UCHAR CtrlRevision;
    USHORT CtrlVendorId;
    USHORT CtrlDeviceId;
} HDAUDIO_DEVICE_INFORMATION_V2, *PHDAUDIO_DEVICE_INFORMATION_V2;

/* One BDL entry as the controller reads it (16 bytes). */
typedef struct _HDAUDIO_BUFFER_DESCRIPTOR {
    PHYSICAL_ADDRESS Address;
    ULONG Length;
    ULONG InterruptOnCompletion;
} HDAUDIO_BUFFER_DESCRIPTOR, *PHDAUDIO_BUFFER_DESCRIPTOR;

/* ---- the routines ---- */
typedef NTSTATUS (NTAPI *PTRANSFER_CODEC_VERBS)(PVOID _context, ULONG Count, PHDAUDIO_CODEC_TRANSFER CodecTransfer,
                                               PHDAUDIO_TRANSFER_COMPLETE_CALLBACK Callback, PVOID Context);
typedef NTSTATUS (NTAPI *PALLOCATE_CAPTURE_DMA_ENGINE)(PVOID _context, UCHAR CodecAddress, PHDAUDIO_STREAM_FORMAT StreamFormat,
                                                      PHANDLE Handle, PHDAUDIO_CONVERTER_FORMAT ConverterFormat);
typedef NTSTATUS (NTAPI *PALLOCATE_RENDER_DMA_ENGINE)(PVOID _context, PHDAUDIO_STREAM_FORMAT StreamFormat, BOOLEAN Stripe,
                                                     PHANDLE Handle, PHDAUDIO_CONVERTER_FORMAT ConverterFormat);
typedef NTSTATUS (NTAPI *PCHANGE_BANDWIDTH_ALLOCATION)(PVOID _context, HANDLE Handle, PHDAUDIO_STREAM_FORMAT StreamFormat,
                                                      PHDAUDIO_CONVERTER_FORMAT ConverterFormat);
typedef NTSTATUS (NTAPI *PALLOCATE_DMA_BUFFER)(PVOID _context, HANDLE Handle, SIZE_T RequestedBufferSize, PMDL *BufferMdl,
                                              PSIZE_T AllocatedBufferSize, PUCHAR StreamId, PULONG FifoSize);
typedef NTSTATUS (NTAPI *PFREE_DMA_BUFFER)(PVOID _context, HANDLE Handle);
typedef NTSTATUS (NTAPI *PFREE_DMA_ENGINE)(PVOID _context, HANDLE Handle);
typedef NTSTATUS (NTAPI *PSET_DMA_ENGINE_STATE)(PVOID _context, HDAUDIO_STREAM_STATE StreamState, ULONG NumberOfHandles,
                                               PHANDLE Handles);
typedef VOID (NTAPI *PGET_WALL_CLOCK_REGISTER)(PVOID _context, PULONG *Wallclock);
typedef NTSTATUS (NTAPI *PGET_LINK_POSITION_REGISTER)(PVOID _context, HANDLE Handle, PULONG *Position);
typedef NTSTATUS (NTAPI *PREGISTER_EVENT_CALLBACK)(PVOID _context, PHDAUDIO_UNSOLICITED_RESPONSE_CALLBACK Routine,
                                                  PVOID Context, PUCHAR Tag);
typedef NTSTATUS (NTAPI *PUNREGISTER_EVENT_CALLBACK)(PVOID _context, UCHAR Tag);
typedef NTSTATUS (NTAPI *PGET_DEVICE_INFORMATION)(PVOID _context, PHDAUDIO_DEVICE_INFORMATION DeviceInformation);
typedef VOID (NTAPI *PGET_RESOURCE_INFORMATION)(PVOID _context, PUCHAR CodecAddress, PUCHAR FunctionGroupStartNode);

/* V2 */
typedef NTSTATUS (NTAPI *PALLOCATE_DMA_BUFFER_WITH_NOTIFICATION)(PVOID _context, HANDLE Handle, ULONG NotificationCount,
                                                                SIZE_T RequestedBufferSize, PMDL *BufferMdl,
                                                                PSIZE_T AllocatedBufferSize, PSIZE_T OffsetFromFirstPage,
                                                                PUCHAR StreamId, PULONG FifoSize);
typedef NTSTATUS (NTAPI *PFREE_DMA_BUFFER_WITH_NOTIFICATION)(PVOID _context, HANDLE Handle, PMDL BufferMdl, SIZE_T BufferSize);
typedef NTSTATUS (NTAPI *PREGISTER_NOTIFICATION_EVENT)(PVOID _context, HANDLE Handle, PKEVENT NotificationEvent);
typedef NTSTATUS (NTAPI *PUNREGISTER_NOTIFICATION_EVENT)(PVOID _context, HANDLE Handle, PKEVENT NotificationEvent);

/* V3 */
typedef VOID (NTAPI *PHDAUDIO_DMA_NOTIFICATION_CALLBACK)(PVOID Context, LARGE_INTEGER QPCDMANotificationTimestamp);
typedef NTSTATUS (NTAPI *PREGISTER_NOTIFICATION_CALLBACK)(PVOID _context, HANDLE Handle, PDEVICE_OBJECT Fdo,
                                                         PHDAUDIO_DMA_NOTIFICATION_CALLBACK NotificationCallback,
                                                         PVOID CallbackContext);
typedef NTSTATUS (NTAPI *PUNREGISTER_NOTIFICATION_CALLBACK)(PVOID _context, HANDLE Handle,
                                                           PHDAUDIO_DMA_NOTIFICATION_CALLBACK NotificationCallback,
                                                           PVOID CallbackContext);

/* BDL */
typedef VOID (NTAPI *PHDAUDIO_BDL_ISR)(VOID *Context, ULONG InterruptBitMask);
typedef NTSTATUS (NTAPI *PALLOCATE_CONTIGUOUS_DMA_BUFFER)(PVOID _context, HANDLE Handle, ULONG RequestedBufferSize,
                                                         PVOID *DataBuffer, PHDAUDIO_BUFFER_DESCRIPTOR *BdlBuffer);
typedef NTSTATUS (NTAPI *PFREE_CONTIGUOUS_DMA_BUFFER)(PVOID _context, HANDLE Handle);
typedef NTSTATUS (NTAPI *PSETUP_DMA_ENGINE_WITH_BDL)(PVOID _context, HANDLE Handle, ULONG BufferLength, ULONG Lvi,
                                                    PHDAUDIO_BDL_ISR Isr, PVOID Context, PUCHAR StreamId, PULONG FifoSize);

/* ---- the interfaces ---- */
typedef struct _HDAUDIO_BUS_INTERFACE {
    USHORT Size;
    USHORT Version;
    PVOID Context;
    PINTERFACE_REFERENCE InterfaceReference;
    PINTERFACE_DEREFERENCE InterfaceDereference;
    PTRANSFER_CODEC_VERBS TransferCodecVerbs;
    PALLOCATE_CAPTURE_DMA_ENGINE AllocateCaptureDmaEngine;
    PALLOCATE_RENDER_DMA_ENGINE AllocateRenderDmaEngine;
    PCHANGE_BANDWIDTH_ALLOCATION ChangeBandwidthAllocation;
    PALLOCATE_DMA_BUFFER AllocateDmaBuffer;
    PFREE_DMA_BUFFER FreeDmaBuffer;
    PFREE_DMA_ENGINE FreeDmaEngine;
    PSET_DMA_ENGINE_STATE SetDmaEngineState;
    PGET_WALL_CLOCK_REGISTER GetWallClockRegister;
    PGET_LINK_POSITION_REGISTER GetLinkPositionRegister;
    PREGISTER_EVENT_CALLBACK RegisterEventCallback;
    PUNREGISTER_EVENT_CALLBACK UnregisterEventCallback;
    PGET_DEVICE_INFORMATION GetDeviceInformation;
    PGET_RESOURCE_INFORMATION GetResourceInformation;
} HDAUDIO_BUS_INTERFACE, *PHDAUDIO_BUS_INTERFACE;

typedef struct _HDAUDIO_BUS_INTERFACE_V2 {
    USHORT Size;
    USHORT Version;
    PVOID Context;
    PINTERFACE_REFERENCE InterfaceReference;
    PINTERFACE_DEREFERENCE InterfaceDereference;
    PTRANSFER_CODEC_VERBS TransferCodecVerbs;
    PALLOCATE_CAPTURE_DMA_ENGINE AllocateCaptureDmaEngine;
    PALLOCATE_RENDER_DMA_ENGINE AllocateRenderDmaEngine;
    PCHANGE_BANDWIDTH_ALLOCATION ChangeBandwidthAllocation;
    PALLOCATE_DMA_BUFFER AllocateDmaBuffer;
    PFREE_DMA_BUFFER FreeDmaBuffer;
    PFREE_DMA_ENGINE FreeDmaEngine;
    PSET_DMA_ENGINE_STATE SetDmaEngineState;
    PGET_WALL_CLOCK_REGISTER GetWallClockRegister;
    PGET_LINK_POSITION_REGISTER GetLinkPositionRegister;
    PREGISTER_EVENT_CALLBACK RegisterEventCallback;
    PUNREGISTER_EVENT_CALLBACK UnregisterEventCallback;
    PGET_DEVICE_INFORMATION GetDeviceInformation;
    PGET_RESOURCE_INFORMATION GetResourceInformation;
    PALLOCATE_DMA_BUFFER_WITH_NOTIFICATION AllocateDmaBufferWithNotification;
    PFREE_DMA_BUFFER_WITH_NOTIFICATION FreeDmaBufferWithNotification;
    PREGISTER_NOTIFICATION_EVENT RegisterNotificationEvent;
    PUNREGISTER_NOTIFICATION_EVENT UnregisterNotificationEvent;
} HDAUDIO_BUS_INTERFACE_V2, *PHDAUDIO_BUS_INTERFACE_V2;

typedef struct _HDAUDIO_BUS_INTERFACE_V3 {
    USHORT Size;
    USHORT Version;
    PVOID Context;
    PINTERFACE_REFERENCE InterfaceReference;
    PINTERFACE_DEREFERENCE InterfaceDereference;
    PTRANSFER_CODEC_VERBS TransferCodecVerbs;
    PALLOCATE_CAPTURE_DMA_ENGINE AllocateCaptureDmaEngine;
    PALLOCATE_RENDER_DMA_ENGINE AllocateRenderDmaEngine;
    PCHANGE_BANDWIDTH_ALLOCATION ChangeBandwidthAllocation;
    PALLOCATE_DMA_BUFFER AllocateDmaBuffer;
    PFREE_DMA_BUFFER FreeDmaBuffer;
    PFREE_DMA_ENGINE FreeDmaEngine;
    PSET_DMA_ENGINE_STATE SetDmaEngineState;
    PGET_WALL_CLOCK_REGISTER GetWallClockRegister;
    PGET_LINK_POSITION_REGISTER GetLinkPositionRegister;
    PREGISTER_EVENT_CALLBACK RegisterEventCallback;
    PUNREGISTER_EVENT_CALLBACK UnregisterEventCallback;
    PGET_DEVICE_INFORMATION GetDeviceInformation;
    PGET_RESOURCE_INFORMATION GetResourceInformation;
    PALLOCATE_DMA_BUFFER_WITH_NOTIFICATION AllocateDmaBufferWithNotification;
    PFREE_DMA_BUFFER_WITH_NOTIFICATION FreeDmaBufferWithNotification;
    PREGISTER_NOTIFICATION_EVENT RegisterNotificationEvent;
    PUNREGISTER_NOTIFICATION_EVENT UnregisterNotificationEvent;
    PREGISTER_NOTIFICATION_CALLBACK RegisterNotificationCallback;
    PUNREGISTER_NOTIFICATION_CALLBACK UnregisterNotificationCallback;
} HDAUDIO_BUS_INTERFACE_V3, *PHDAUDIO_BUS_INTERFACE_V3;

typedef struct _HDAUDIO_BUS_INTERFACE_BDL {
    USHORT Size;
    USHORT Version;
    PVOID Context;
    PINTERFACE_REFERENCE InterfaceReference;
    PINTERFACE_DEREFERENCE InterfaceDereference;
    PTRANSFER_CODEC_VERBS TransferCodecVerbs;
    PALLOCATE_CAPTURE_DMA_ENGINE AllocateCaptureDmaEngine;
    PALLOCATE_RENDER_DMA_ENGINE AllocateRenderDmaEngine;
    PCHANGE_BANDWIDTH_ALLOCATION ChangeBandwidthAllocation;
    PALLOCATE_CONTIGUOUS_DMA_BUFFER AllocateContiguousDmaBuffer;
    PSETUP_DMA_ENGINE_WITH_BDL SetupDmaEngineWithBdl;
    PFREE_CONTIGUOUS_DMA_BUFFER FreeContiguousDmaBuffer;
    PFREE_DMA_ENGINE FreeDmaEngine;
    PSET_DMA_ENGINE_STATE SetDmaEngineState;
    PGET_WALL_CLOCK_REGISTER GetWallClockRegister;
    PGET_LINK_POSITION_REGISTER GetLinkPositionRegister;
    PREGISTER_EVENT_CALLBACK RegisterEventCallback;
    PUNREGISTER_EVENT_CALLBACK UnregisterEventCallback;
    PGET_DEVICE_INFORMATION GetDeviceInformation;
    PGET_RESOURCE_INFORMATION GetResourceInformation;
} HDAUDIO_BUS_INTERFACE_BDL, *PHDAUDIO_BUS_INTERFACE_BDL;

#ifdef __cplusplus
}
#endif

#endif /* AZALIA_HDAUDIO_H */
