import HDACodec
import HDAudio

/// Mutates valid WAV files: a fuzzer for machines without libFuzzer.
struct WAVMutationWalk {
    var rng: StressRandom
    init(seed: UInt64) { rng = StressRandom(seed: seed) }

    /// A valid file of a random format (PCM or EXTENSIBLE), a few blocks long.
    mutating func validFile() -> [UInt8] {
        let bits = rng.pick([UInt16(8), 16, 24, 32])
        let valid = bits <= 16 || rng.oneIn(2) ? bits : bits - UInt16(rng.below(Int(bits) - 15))
        let format = WAVFormat(sampleRate: rng.oneIn(4) ? UInt32(1 + rng.below(400_000)) : rng.pick([8000, 44100, 48000, 96000, 192_000]),
                               channels: UInt16(1 + rng.below(rng.oneIn(3) ? 16 : 2)), bitsPerSample: bits, validBitsPerSample: valid)
        let data = (0..<(format.blockAlign * rng.below(9))).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        return (try? WAVFile(format: format, data: data).serialized()) ?? []
    }

    /// One mutation of the bytes.
    mutating func mutate(_ bytes: inout [UInt8]) {
        guard !bytes.isEmpty else { bytes = [UInt8(truncatingIfNeeded: rng.next())]; return }
        let at = rng.below(bytes.count)
        switch rng.below(8) {
        case 0: bytes[at] ^= 1 << UInt8(rng.below(8))
        case 1: bytes[at] = rng.pick([0, 1, 0x7F, 0x80, 0xFF, 0x1B, 0x0A])
        case 2:
            // A little-endian 32-bit field (a size, a rate) set to an edge value.
            let v = UInt32(truncatingIfNeeded: rng.edgy(max: UInt64(UInt32.max)))
            for k in 0..<4 where at + k < bytes.count { bytes[at + k] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(k))) }
        case 3: bytes.removeLast(rng.below(bytes.count + 1))
        case 4: bytes.insert(contentsOf: (0..<(1 + rng.below(16))).map { _ in UInt8(truncatingIfNeeded: rng.next()) }, at: at)
        case 5: bytes.removeSubrange(at..<min(bytes.count, at + 1 + rng.below(16)))
        case 6:
            let end = min(bytes.count, at + 1 + rng.below(32))
            bytes.insert(contentsOf: bytes[at..<end], at: rng.below(bytes.count + 1))
        default:
            // A chunk id changed (fmt, data, or bytes a terminal would act on).
            let id: [UInt8] = rng.pick([Array("fmt ".utf8), Array("data".utf8), Array("LIST".utf8), [0x1B, 0x5B, 0x32, 0x4A]])
            for k in 0..<4 where at + k < bytes.count { bytes[at + k] = id[k] }
        }
    }

    mutating func run(steps: Int, counts: inout [String: Int], progress: ((Int) -> Void)?) throws(StressViolation) {
        for step in 0..<steps {
            var bytes = validFile()
            for _ in 0..<(1 + rng.below(6)) { mutate(&bytes) }
            try Self.check(bytes, step: step, counts: &counts)
            if step % 1024 == 0 { progress?(step) }
        }
        progress?(steps)
    }

    /// What must hold for any file: it parses, and then writes back and parses to the same file,
    /// or it is refused with a WAVError whose message has no control bytes.
    static func check(_ bytes: [UInt8], step: Int, counts: inout [String: Int]) throws(StressViolation) {
        do {
            let file = try WAVFile.parse(bytes)
            // What parses writes back and parses again to the same file.
            let again = try WAVFile.parse(try file.serialized())
            guard again == file else { throw StressViolation(step: step, message: "a parsed file does not survive writing back") }
            counts["parsed", default: 0] += 1
        } catch let error as WAVError {
            let text = error.description
            guard !text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
                throw StressViolation(step: step, message: "control bytes in the message: \(text.debugDescription)")
            }
            counts["refused", default: 0] += 1
        } catch let violation as StressViolation {
            throw violation
        } catch {
            throw StressViolation(step: step, message: "undocumented error \(error)")
        }
    }
}
