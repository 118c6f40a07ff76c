/* The WDM routines of wdm.h that need no bus: KEVENT, and the hooks into libazalia. */
#define INITGUID
#include "azalia_types.h"

static AZALIA_WDM_HOOKS AzaliaWdmHooks = { 0, 0, 0 };

VOID AzaliaSetWdmHooks(const AZALIA_WDM_HOOKS *Hooks) {
    if (Hooks) AzaliaWdmHooks = *Hooks;
}

VOID KeInitializeEvent(PRKEVENT Event, EVENT_TYPE Type, BOOLEAN State) {
    if (!Event) return;
    memset(Event, 0, sizeof(*Event));
    Event->Header.Type = (UCHAR)Type;
    Event->Header.Size = (UCHAR)(sizeof(KEVENT) / sizeof(LONG));
    __atomic_store_n(&Event->Header.SignalState, State ? 1 : 0, __ATOMIC_SEQ_CST);
    Event->Header.WaitListHead.Flink = &Event->Header.WaitListHead;
    Event->Header.WaitListHead.Blink = &Event->Header.WaitListHead;
}

LONG KeSetEvent(PRKEVENT Event, KPRIORITY Increment, BOOLEAN Wait) {
    (void)Increment;
    (void)Wait;
    if (!Event) return 0;
    return __atomic_exchange_n(&Event->Header.SignalState, 1, __ATOMIC_SEQ_CST);
}

LONG KeResetEvent(PRKEVENT Event) {
    if (!Event) return 0;
    return __atomic_exchange_n(&Event->Header.SignalState, 0, __ATOMIC_SEQ_CST);
}

VOID KeClearEvent(PRKEVENT Event) { (void)KeResetEvent(Event); }

LONG KeReadStateEvent(PRKEVENT Event) {
    if (!Event) return 0;
    return __atomic_load_n(&Event->Header.SignalState, __ATOMIC_SEQ_CST);
}

BOOLEAN AzaliaTryAcquireEvent(PKEVENT Event) {
    if (!Event) return FALSE;
    if (Event->Header.Type == SynchronizationEvent)
        return __atomic_exchange_n(&Event->Header.SignalState, 0, __ATOMIC_SEQ_CST) != 0;
    return __atomic_load_n(&Event->Header.SignalState, __ATOMIC_SEQ_CST) != 0;
}

NTSTATUS KeWaitForSingleObject(PVOID Object, KWAIT_REASON WaitReason, KPROCESSOR_MODE WaitMode,
                               BOOLEAN Alertable, PLARGE_INTEGER Timeout) {
    (void)WaitReason;
    (void)WaitMode;
    (void)Alertable;
    if (!Object) return STATUS_INVALID_PARAMETER;
    if (AzaliaTryAcquireEvent((PKEVENT)Object)) return STATUS_SUCCESS;
    if (!AzaliaWdmHooks.Wait) return STATUS_TIMEOUT;   /* no system: nothing can signal it */
    return AzaliaWdmHooks.Wait((PKEVENT)Object, Timeout);
}

KIRQL KeGetCurrentIrql(void) {
    return AzaliaWdmHooks.CurrentIrql ? AzaliaWdmHooks.CurrentIrql() : PASSIVE_LEVEL;
}

PHYSICAL_ADDRESS MmGetPhysicalAddress(PVOID BaseAddress) {
    PHYSICAL_ADDRESS a;
    a.QuadPart = AzaliaWdmHooks.PhysicalAddress ? AzaliaWdmHooks.PhysicalAddress(BaseAddress) : 0;
    return a;
}
