/*
 * wdm.h (Azalia): the part of the Windows Driver Model that a function driver written
 * against hdaudio.h needs to use the bus's results, for building such drivers on a
 * non-Windows host against libazalia. Types follow the Windows LLP64 data model
 * (ULONG is 32 bits on every platform). Nothing else of the WDM is here.
 */
#ifndef AZALIA_WDM_H
#define AZALIA_WDM_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- basic types ---- */
#define VOID void
typedef void *PVOID;
typedef uint8_t UCHAR, *PUCHAR;
typedef int8_t CHAR;
typedef uint16_t USHORT, *PUSHORT;
typedef int16_t SHORT, CSHORT;
typedef uint32_t ULONG, *PULONG;
typedef int32_t LONG, *PLONG;
typedef uint64_t ULONGLONG, ULONG64;
typedef int64_t LONGLONG, LONG64;
typedef uintptr_t ULONG_PTR;
typedef intptr_t LONG_PTR;
typedef size_t SIZE_T, *PSIZE_T;
typedef UCHAR BOOLEAN, *PBOOLEAN;
typedef void *HANDLE, **PHANDLE;
typedef LONG NTSTATUS;
typedef UCHAR KIRQL, *PKIRQL;
typedef LONG KPRIORITY;
typedef CHAR KPROCESSOR_MODE;

#ifndef TRUE
#define TRUE 1
#endif
#ifndef FALSE
#define FALSE 0
#endif
#ifndef NTAPI
#define NTAPI
#endif

typedef union _LARGE_INTEGER {
    struct {
        ULONG LowPart;
        LONG HighPart;
    };
    LONGLONG QuadPart;
} LARGE_INTEGER, *PLARGE_INTEGER;

typedef LARGE_INTEGER PHYSICAL_ADDRESS, *PPHYSICAL_ADDRESS;

/* ---- NTSTATUS ---- */
#define NT_SUCCESS(Status) (((NTSTATUS)(Status)) >= 0)
#define STATUS_SUCCESS                  ((NTSTATUS)0x00000000L)
#define STATUS_TIMEOUT                  ((NTSTATUS)0x00000102L)
#define STATUS_PENDING                  ((NTSTATUS)0x00000103L)
#define STATUS_UNSUCCESSFUL             ((NTSTATUS)0xC0000001L)
#define STATUS_NOT_IMPLEMENTED          ((NTSTATUS)0xC0000002L)
#define STATUS_INVALID_HANDLE           ((NTSTATUS)0xC0000008L)
#define STATUS_INVALID_PARAMETER        ((NTSTATUS)0xC000000DL)
#define STATUS_INVALID_DEVICE_REQUEST   ((NTSTATUS)0xC0000010L)
#define STATUS_NO_MEMORY                ((NTSTATUS)0xC0000017L)
#define STATUS_BUFFER_TOO_SMALL         ((NTSTATUS)0xC0000023L)
#define STATUS_NOT_SUPPORTED            ((NTSTATUS)0xC00000BBL)
#define STATUS_INSUFFICIENT_RESOURCES   ((NTSTATUS)0xC000009AL)
#define STATUS_DEVICE_NOT_READY         ((NTSTATUS)0xC00000A3L)
#define STATUS_NO_SUCH_DEVICE           ((NTSTATUS)0xC000000EL)

/* ---- IRQL ---- */
#define PASSIVE_LEVEL  0
#define APC_LEVEL      1
#define DISPATCH_LEVEL 2
/* The level Azalia reports inside a BDL ISR (any device IRQL above DISPATCH_LEVEL). */
#define AZALIA_DIRQL   5

/* The calling thread's IRQL: DISPATCH_LEVEL inside notification and codec callbacks,
   a device IRQL inside a BDL ISR, PASSIVE_LEVEL otherwise. */
KIRQL KeGetCurrentIrql(void);

/* ---- GUIDs ---- */
#ifndef GUID_DEFINED
#define GUID_DEFINED
typedef struct _GUID {
    ULONG Data1;
    USHORT Data2;
    USHORT Data3;
    UCHAR Data4[8];
} GUID;
#endif
typedef const GUID *LPCGUID;

#undef DEFINE_GUID
#ifdef INITGUID
#define DEFINE_GUID(name, l, w1, w2, b1, b2, b3, b4, b5, b6, b7, b8) \
    const GUID name = { l, w1, w2, { b1, b2, b3, b4, b5, b6, b7, b8 } }
#else
#define DEFINE_GUID(name, l, w1, w2, b1, b2, b3, b4, b5, b6, b7, b8) extern const GUID name
#endif

static inline BOOLEAN IsEqualGUID(const GUID *a, const GUID *b) {
    return memcmp(a, b, sizeof(GUID)) == 0;
}

/* ---- INTERFACE (IRP_MN_QUERY_INTERFACE) ---- */
typedef VOID (NTAPI *PINTERFACE_REFERENCE)(PVOID Context);
typedef VOID (NTAPI *PINTERFACE_DEREFERENCE)(PVOID Context);

typedef struct _INTERFACE {
    USHORT Size;
    USHORT Version;
    PVOID Context;
    PINTERFACE_REFERENCE InterfaceReference;
    PINTERFACE_DEREFERENCE InterfaceDereference;
} INTERFACE, *PINTERFACE;

/* ---- lists and dispatcher objects ---- */
typedef struct _LIST_ENTRY {
    struct _LIST_ENTRY *Flink;
    struct _LIST_ENTRY *Blink;
} LIST_ENTRY, *PLIST_ENTRY;

typedef struct _DISPATCHER_HEADER {
    UCHAR Type;
    UCHAR Signalling;
    UCHAR Size;
    UCHAR Reserved1;
    LONG SignalState;
    LIST_ENTRY WaitListHead;
} DISPATCHER_HEADER;

/* ---- MDL: the pages of a DMA buffer ---- */
typedef ULONG_PTR PFN_NUMBER, *PPFN_NUMBER;
#define PAGE_SIZE 4096
#define PAGE_SHIFT 12

typedef struct _MDL {
    struct _MDL *Next;
    CSHORT Size;
    CSHORT MdlFlags;
    struct _EPROCESS *Process;
    PVOID MappedSystemVa;
    PVOID StartVa;
    ULONG ByteCount;
    ULONG ByteOffset;
    /* followed by the page frame numbers, one per page */
} MDL, *PMDL;

typedef enum _MM_PAGE_PRIORITY {
    LowPagePriority = 0,
    NormalPagePriority = 16,
    HighPagePriority = 32
} MM_PAGE_PRIORITY;

#define MDL_MAPPED_TO_SYSTEM_VA 0x0001
#define MmGetMdlByteCount(Mdl) ((Mdl)->ByteCount)
#define MmGetMdlByteOffset(Mdl) ((Mdl)->ByteOffset)
#define MmGetMdlPfnArray(Mdl) ((PPFN_NUMBER)((Mdl) + 1))
/* Azalia maps every buffer it hands out: the mapping is the buffer's host copy. */
#define MmGetSystemAddressForMdlSafe(Mdl, Priority) ((Mdl)->MappedSystemVa)

/* The bus-physical (guest) address of a byte of a buffer the bus allocated
   (a DMA buffer's mapping, a contiguous data buffer or a BDL page); 0 for any other. */
PHYSICAL_ADDRESS MmGetPhysicalAddress(PVOID BaseAddress);

/* ---- KEVENT ---- */
typedef enum _EVENT_TYPE {
    NotificationEvent = 0,
    SynchronizationEvent = 1
} EVENT_TYPE;

typedef struct _KEVENT {
    DISPATCHER_HEADER Header;
} KEVENT, *PKEVENT, *PRKEVENT;

typedef enum _KWAIT_REASON { Executive = 0 } KWAIT_REASON;
#define KernelMode ((KPROCESSOR_MODE)0)
#define UserMode ((KPROCESSOR_MODE)1)
#define IO_NO_INCREMENT 0

VOID KeInitializeEvent(PRKEVENT Event, EVENT_TYPE Type, BOOLEAN State);
/* Signals the event; returns its previous state. */
LONG KeSetEvent(PRKEVENT Event, KPRIORITY Increment, BOOLEAN Wait);
VOID KeClearEvent(PRKEVENT Event);
/* Clears the event; returns its previous state. */
LONG KeResetEvent(PRKEVENT Event);
LONG KeReadStateEvent(PRKEVENT Event);
/*
 * Waits for a KEVENT. Time is the link's: while the event is not signalled, the wait moves
 * link time forward (of the system the event is registered with, else the last system
 * created), delivering interrupts, notifications and callbacks as it goes. Timeout is in
 * 100 ns units of link time: negative is relative, 0 polls, positive is absolute (link time
 * since the system started). NULL waits without limit, but at most 10 s of link time, so a
 * wait nothing will satisfy cannot hang (then STATUS_TIMEOUT). A signalled
 * SynchronizationEvent is reset by the wait that sees it. STATUS_SUCCESS or STATUS_TIMEOUT;
 * STATUS_INVALID_PARAMETER for a NULL object.
 */
NTSTATUS KeWaitForSingleObject(PVOID Object, KWAIT_REASON WaitReason, KPROCESSOR_MODE WaitMode,
                               BOOLEAN Alertable, PLARGE_INTEGER Timeout);

/* ---- registers ---- */
static inline ULONG READ_REGISTER_ULONG(volatile ULONG *Register) { return *Register; }
static inline USHORT READ_REGISTER_USHORT(volatile USHORT *Register) { return *Register; }
static inline UCHAR READ_REGISTER_UCHAR(volatile UCHAR *Register) { return *Register; }

/* ---- DEVICE_OBJECT: a stand-in with the fields a function driver touches ---- */
typedef struct _DEVICE_OBJECT {
    CSHORT Type;
    USHORT Size;
    LONG ReferenceCount;   /* the bus adds one per V3 callback registration it holds */
    struct _DRIVER_OBJECT *DriverObject;
    struct _DEVICE_OBJECT *NextDevice;
    struct _DEVICE_OBJECT *AttachedDevice;
    PVOID DeviceExtension;
} DEVICE_OBJECT, *PDEVICE_OBJECT;

#ifdef __cplusplus
}
#endif

#endif /* AZALIA_WDM_H */
