import Azalia
import HDAController
import HDAudio
import HDAudioBus
import Testing
// Every file of the target sees what the bus test targets share (expectStatus, F, the buffer rules).
@_exported import TestSupport
import Synchronization

/// A system of `profile` with quiet codecs at `codecs`.
func makeSystem(_ profile: ControllerProfile = .ich6, codecs: [Int] = [0, 1, 2], memoryPages: Int = 2048,
                faults: FaultInjection = .init()) throws -> AzaliaSystem {
    var attached: [Int: any LinkCodec] = [:]
    for a in codecs { attached[a] = QuietCodec() }
    return try AzaliaSystem(profile: profile, memoryPages: memoryPages, faults: faults, codecs: attached)
}

extension AzaliaSystem {
    /// SDnCTL (24 bits) of descriptor `index`.
    func control(_ index: Int) -> StreamControl {
        StreamControl(rawValue: platform.read32(HDARegister.streamDescriptor(index)))
    }
    /// A descriptor register.
    func sd32(_ index: Int, _ reg: UInt32) -> UInt32 { platform.read32(HDARegister.streamDescriptor(index) + reg) }
    /// A 16-bit descriptor register.
    func sd16(_ index: Int, _ reg: UInt32) -> UInt16 { platform.read16(HDARegister.streamDescriptor(index) + reg) }
    /// The descriptor index of the only engine with tag `tag` in `direction`.
    func engineIndex(tag: UInt8, _ direction: StreamDirection) -> Int? {
        (try? bus.resources())?.engines.first { $0.tag == tag && $0.direction == direction }?.index
    }
    /// Runs `body` at DISPATCH_LEVEL or DIRQL on this thread.
    func atIRQL<R>(_ level: IRQL, _ body: () throws -> R) throws -> R {
        try platform.withIRQL(level, body)
    }
}

/// Gives engine `handle` a buffer and frees it again, so the engine no longer counts as
/// untouched since its allocation's SRST handshake: the next AllocateDmaBuffer runs the
/// handshake in full (a fault injected now is seen there).
func cycleBuffer(_ client: some DmaBufferRoutines, _ handle: DmaEngineHandle) throws {
    _ = try client.allocateDmaBuffer(handle, requestedBufferSize: 4096)
    try client.freeDmaBuffer(handle)
}

/// Writes raw BDL entries into a BDL page of `system`'s guest memory.
func writeRawBdl(_ system: AzaliaSystem, at page: UInt64, _ entries: [(UInt64, UInt32, Bool)]) {
    writeRawBdl(system.platform, at: page, entries)
}

/// Reads `count` BDL entries back from `system`'s guest memory.
func readRawBdl(_ system: AzaliaSystem, at page: UInt64, count: Int) -> [BDLEntry]? {
    readRawBdl(system.platform, at: page, count: count)
}
