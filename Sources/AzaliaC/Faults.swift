import Azalia
public import CAzalia
import HDAController

// azalia.h's fault injection: the controller's FaultInjection and guest memory's page cap,
// so a C driver's error paths (STATUS_DEVICE_NOT_READY, STATUS_INSUFFICIENT_RESOURCES) run.

/// The descriptors a mask names (bit n: descriptor n).
func descriptors(_ mask: ULONG) -> Set<Int> {
    Set((0..<32).filter { mask & (1 << ULONG($0)) != 0 })
}

@_cdecl("AzaliaSetFaults")
public func azaliaSetFaults(_ system: OpaquePointer?, _ faults: UnsafePointer<AZALIA_FAULTS>?) -> NTSTATUS {
    guard let s = Registry.system(systemToken(system)) else { return nt(.invalidHandle) }
    let f = faults?.pointee ?? AZALIA_FAULTS()
    s.system.setFaults(FaultInjection(srstNeverLatches: descriptors(f.SrstNeverLatches),
                                      srstNeverClears: descriptors(f.SrstNeverClears),
                                      crstNeverCompletes: f.CrstNeverCompletes != 0,
                                      fifoErrors: descriptors(f.FifoErrors),
                                      fifoNeverReady: descriptors(f.FifoNeverReady),
                                      runNeverClears: descriptors(f.RunNeverClears)))
    return STATUS_SUCCESS
}

@_cdecl("AzaliaSetPageLimit")
public func azaliaSetPageLimit(_ system: OpaquePointer?, _ pages: LONG) -> NTSTATUS {
    guard let s = Registry.system(systemToken(system)) else { return nt(.invalidHandle) }
    guard pages >= -1 else { return invalidParameter }
    s.system.setPageLimit(pages == -1 ? nil : Int(pages))
    return STATUS_SUCCESS
}

@_cdecl("AzaliaGetAllocatedPages")
public func azaliaGetAllocatedPages(_ system: OpaquePointer?, _ pages: UnsafeMutablePointer<ULONG>?) -> NTSTATUS {
    guard let s = Registry.system(systemToken(system)) else { return nt(.invalidHandle) }
    guard let pages else { return invalidParameter }
    pages.pointee = ULONG(s.platform.withController { $0.memory.allocatedPages })
    return STATUS_SUCCESS
}
