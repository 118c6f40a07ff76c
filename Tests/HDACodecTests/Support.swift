import Foundation
import Testing
import HDAudio
@testable import HDACodec

/// A fresh temporary directory for one test.
func temporaryDirectory() throws -> String {
    let dir = NSTemporaryDirectory() + "hdacodec-tests-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

/// Reads a whole file.
func fileBytes(_ path: String) throws -> [UInt8] {
    [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
}

/// Builds WAV bytes by hand, field by field (independent of the writer under test).
struct RawWAV {
    var formatTag: UInt16 = 1
    var channels: UInt16 = 2
    var rate: UInt32 = 48000
    var byteRate: UInt32? = nil
    var blockAlign: UInt16? = nil
    var bits: UInt16 = 16
    /// Extension bytes after the 16 basic fmt bytes (cbSize and beyond).
    var fmtExtension: [UInt8] = []
    var data: [UInt8] = [1, 2, 3, 4]
    var includeFormat = true
    var includeData = true
    var dataFirst = false
    var extraChunk: [UInt8] = []

    static func le16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8)] }
    static func le32(_ v: UInt32) -> [UInt8] { le16(UInt16(v & 0xFFFF)) + le16(UInt16(v >> 16)) }

    /// The extension of a WAVE_FORMAT_EXTENSIBLE fmt chunk with a sub-format code.
    static func extensible(validBits: UInt16, mask: UInt32 = 0x3, subFormat: UInt16 = 1) -> [UInt8] {
        le16(22) + le16(validBits) + le32(mask) + le16(subFormat)
            + [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71]
    }

    var bytes: [UInt8] {
        let align = blockAlign ?? channels * (bits / 8)
        var fmtBody = RawWAV.le16(formatTag) + RawWAV.le16(channels) + RawWAV.le32(rate)
        fmtBody += RawWAV.le32(byteRate ?? rate * UInt32(align)) + RawWAV.le16(align) + RawWAV.le16(bits)
        fmtBody += fmtExtension
        let fmt = Array("fmt ".utf8) + RawWAV.le32(UInt32(fmtBody.count)) + fmtBody + (fmtBody.count & 1 == 1 ? [0] : [])
        let dat = Array("data".utf8) + RawWAV.le32(UInt32(data.count)) + data + (data.count & 1 == 1 ? [0] : [])
        var chunks = extraChunk
        let f = includeFormat ? fmt : [], d = includeData ? dat : []
        chunks += dataFirst ? d + f : f + d
        return Array("RIFF".utf8) + RawWAV.le32(UInt32(4 + chunks.count)) + Array("WAVE".utf8) + chunks
    }
}

/// Sample-data helpers for stream tests.
extension StreamFormat {
    /// A format, asserting that it is valid.
    static func make(_ rate: UInt32, _ bits: UInt16, _ container: UInt16, _ channels: UInt16) -> StreamFormat {
        StreamFormat(sampleRate: rate, validBitsPerSample: bits, containerSize: container, numberOfChannels: channels)
    }
}
