public import HDAudio
public import HDAudioBus
public import Testing

/// Expects `body` to fail with `expected`, and records an issue at the caller when it
/// succeeds or fails with anything else.
public func expectStatus<R>(_ expected: NTStatus, sourceLocation: SourceLocation = #_sourceLocation,
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

/// Stream formats the bus tests use throughout.
public enum F {
    /// 8 kHz, 8 bits, mono: 8 bits per frame.
    public static let small = StreamFormat(rate: 8000, bits: 8, channels: 1)
    /// 44.1 kHz, 16 bits, stereo.
    public static let cd = StreamFormat(rate: 44100, bits: 16, channels: 2)
    /// 48 kHz, 16 bits, stereo: 4-byte blocks, one per frame.
    public static let stereo48 = StreamFormat(rate: 48000, bits: 16, channels: 2)
    /// Formats the DDI must refuse with STATUS_INVALID_PARAMETER.
    public static let invalid: [StreamFormat] = [
        StreamFormat(sampleRate: 384_000, validBitsPerSample: 16, containerSize: 16, numberOfChannels: 2),
        StreamFormat(sampleRate: 48000, validBitsPerSample: 16, containerSize: 16, numberOfChannels: 0),
        StreamFormat(sampleRate: 48000, validBitsPerSample: 16, containerSize: 16, numberOfChannels: 17),
        StreamFormat(sampleRate: 48000, validBitsPerSample: 24, containerSize: 24, numberOfChannels: 2),
        StreamFormat(sampleRate: 48000, validBitsPerSample: 32, containerSize: 16, numberOfChannels: 2),
        StreamFormat(sampleRate: 48000, validBitsPerSample: 12, containerSize: 16, numberOfChannels: 2),
        StreamFormat(sampleRate: 0, validBitsPerSample: 16, containerSize: 16, numberOfChannels: 2),
    ]
}

/// Writes raw BDL entries (absolute address, length, IOC) into a BDL page.
public func writeRawBdl(_ platform: any HDAPlatform, at page: UInt64, _ entries: [(UInt64, UInt32, Bool)]) {
    var bytes: [UInt8] = []
    for (address, length, ioc) in entries {
        bytes += BDLEntry(address: address, length: length, interruptOnCompletion: ioc).bytes
    }
    platform.writeMemory(page, bytes: bytes)
}

/// Reads `count` BDL entries back from guest memory.
public func readRawBdl(_ platform: any HDAPlatform, at page: UInt64, count: Int) -> [BDLEntry]? {
    guard let bytes = platform.readMemory(page, count: count * BDLEntry.size) else { return nil }
    return (0..<count).map { BDLEntry(bytes: bytes[($0 * BDLEntry.size)..<(($0 + 1) * BDLEntry.size)]) }
}

/// The block (bytes in memory) of a format.
public func memoryBlockBytes(_ f: StreamFormat) -> Int { Int(f.numberOfChannels) * Int(f.containerSize) / 8 }
