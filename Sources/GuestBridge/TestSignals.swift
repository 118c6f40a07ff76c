import Foundation
public import HDACodec

/// Signals for checking a guest run.
public enum TestSignals {
    /// 16-bit stereo: a different tone per channel (`frequency` left, 1.5 x right) with a
    /// slow ramp added, so no two nearby blocks are equal and a shifted copy never matches.
    public static func tones(rate: UInt32, seconds: Double, frequency: Double = 440) -> WAVFile {
        let frames = Int(Double(rate) * seconds)
        var data = [UInt8]()
        data.reserveCapacity(frames * 4)
        for i in 0..<frames {
            let t = Double(i) / Double(rate)
            for (channel, f) in [frequency, frequency * 1.5].enumerated() {
                let v = Int16(clamping: Int(12_000 * sin(2 * .pi * f * t)) + (i % 1000) * (channel + 1))
                data.append(UInt8(truncatingIfNeeded: v))
                data.append(UInt8(truncatingIfNeeded: v >> 8))
            }
        }
        return WAVFile(format: WAVFormat(sampleRate: rate, channels: 2, bitsPerSample: 16), data: data)
    }

    /// 16-bit stereo whose block i says i: left = i mod 2^16, right = a function of i / 2^16.
    /// Every block is distinct for 2^32 blocks, so a missing or repeated block shows exactly.
    public static func counter(rate: UInt32, seconds: Double) -> WAVFile {
        let frames = Int(Double(rate) * seconds)
        var data = [UInt8]()
        data.reserveCapacity(frames * 4)
        for i in 0..<frames {
            let left = UInt16(truncatingIfNeeded: i), right = UInt16(truncatingIfNeeded: (i >> 16) &* 7919 &+ 13)
            data += [UInt8(truncatingIfNeeded: left), UInt8(left >> 8), UInt8(truncatingIfNeeded: right), UInt8(right >> 8)]
        }
        return WAVFile(format: WAVFormat(sampleRate: rate, channels: 2, bitsPerSample: 16), data: data)
    }
}
