import Azalia
import HDAController
import HDAudio
import HDAudioBus
import Testing
import TestSupport
import Synchronization

/// A system of `profile` with quiet codecs at `codecs`.
func makeSystem(_ profile: ControllerProfile = .ich6, codecs: [Int] = [0, 1, 2], memoryPages: Int = 2048,
                faults: FaultInjection = .init()) throws -> AzaliaSystem {
    var attached: [Int: any LinkCodec] = [:]
    for a in codecs { attached[a] = QuietCodec() }
    return try AzaliaSystem(profile: profile, memoryPages: memoryPages, faults: faults, codecs: attached)
}

/// Expects `body` to fail with `expected`.
func expectStatus<R>(_ expected: NTStatus, sourceLocation: SourceLocation = #_sourceLocation,
                     _ body: () throws -> R) {
    do {
        _ = try body()
        Issue.record("expected \(expected), got STATUS_SUCCESS", sourceLocation: sourceLocation)
    } catch let status as NTStatus {
        #expect(status == expected, "expected \(expected), got \(status)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected \(expected), got \(error)", sourceLocation: sourceLocation)
    }
}

/// Formats used throughout.
enum F {
    static let small = StreamFormat(rate: 8000, bits: 8, channels: 1)        // 8 bits per frame
    static let cd = StreamFormat(rate: 44100, bits: 16, channels: 2)
    static let stereo48 = StreamFormat(rate: 48000, bits: 16, channels: 2)   // 4-byte blocks, 1 per frame
    static let invalid: [StreamFormat] = [
        StreamFormat(sampleRate: 384_000, validBitsPerSample: 16, containerSize: 16, numberOfChannels: 2),
        StreamFormat(sampleRate: 48000, validBitsPerSample: 16, containerSize: 16, numberOfChannels: 0),
        StreamFormat(sampleRate: 48000, validBitsPerSample: 16, containerSize: 16, numberOfChannels: 17),
        StreamFormat(sampleRate: 48000, validBitsPerSample: 24, containerSize: 24, numberOfChannels: 2),
        StreamFormat(sampleRate: 48000, validBitsPerSample: 32, containerSize: 16, numberOfChannels: 2),
        StreamFormat(sampleRate: 48000, validBitsPerSample: 12, containerSize: 16, numberOfChannels: 2),
        StreamFormat(sampleRate: 0, validBitsPerSample: 16, containerSize: 16, numberOfChannels: 2),
    ]
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

/// Writes raw BDL entries (absolute address, length, IOC) into a BDL page.
func writeRawBdl(_ system: AzaliaSystem, at page: UInt64, _ entries: [(UInt64, UInt32, Bool)]) {
    var bytes: [UInt8] = []
    for (address, length, ioc) in entries {
        bytes += BDLEntry(address: address, length: length, interruptOnCompletion: ioc).bytes
    }
    system.platform.writeMemory(page, bytes: bytes)
}

/// Reads `count` BDL entries back from guest memory.
func readRawBdl(_ system: AzaliaSystem, at page: UInt64, count: Int) -> [BDLEntry]? {
    guard let bytes = system.platform.readMemory(page, count: count * BDLEntry.size) else { return nil }
    return (0..<count).map { BDLEntry(bytes: bytes[($0 * BDLEntry.size)..<(($0 + 1) * BDLEntry.size)]) }
}

/// The block (bytes in memory) of a format.
func memoryBlockBytes(_ f: StreamFormat) -> Int { Int(f.numberOfChannels) * Int(f.containerSize) / 8 }

/// Gives engine `handle` a buffer and frees it again, so the engine no longer counts as
/// untouched since its allocation's SRST handshake: the next AllocateDmaBuffer runs the
/// handshake in full (a fault injected now is seen there).
func cycleBuffer(_ client: some DmaBufferRoutines, _ handle: DmaEngineHandle) throws {
    _ = try client.allocateDmaBuffer(handle, requestedBufferSize: 4096)
    try client.freeDmaBuffer(handle)
}
