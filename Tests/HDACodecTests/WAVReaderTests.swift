import Foundation
import Testing
import HDAudio
@testable import HDACodec

@Suite("WAV reader: headers first, then the data in blocks")
struct WAVReaderTests {
    static func directory() throws -> URL { try WAVFileSystemTests.directory() }

    /// A file of `header` followed by a hole (a sparse file: no disk, reads as zeros) up to `size` bytes.
    static func sparse(_ path: String, header: [UInt8], size: Int) throws {
        #expect(FileManager.default.createFile(atPath: path, contents: Data(header)))
        let fd = open(path, O_WRONLY)
        #expect(fd >= 0)
        defer { close(fd) }
        #expect(ftruncate(fd, off_t(size)) == 0)
    }

    static let stereo16 = WAVFormat(sampleRate: 48000, channels: 2, bitsPerSample: 16)

    @Test("The largest data chunk a RIFF size can say (4 GiB - 40 bytes) is found exactly and streams to its last block")
    func largestFile() throws {
        let dir = try Self.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("huge.wav").path
        // RIFF size = 36 + data must fit a UInt32: the largest whole number of 4-byte blocks.
        let dataBytes = (Int(UInt32.max) - 36) / 4 * 4
        try Self.sparse(path, header: try WAVFile.header(for: Self.stereo16, dataBytes: dataBytes), size: 44 + dataBytes)
        let reader = try WAVReader(path: path)
        #expect(reader.header.dataOffset == 44)
        #expect(reader.header.dataBytes == dataBytes)
        #expect(reader.blockCount == dataBytes / 4)
        #expect(reader.blockCount > Int(Int32.max) / 4)
        reader.seek(toBlock: reader.blockCount - 3)
        var buffer = [UInt8](repeating: 0xAA, count: 64)
        let n = try buffer.withUnsafeMutableBytes { try reader.read(into: $0, blocks: 16) }
        #expect(n == 3)
        #expect(buffer[0..<12].allSatisfy { $0 == 0 })
        #expect(buffer[12] == 0xAA)
        #expect(try buffer.withUnsafeMutableBytes { try reader.read(into: $0, blocks: 16) } == 0)
    }

    @Test("A file above 4 GiB + 8 bytes is refused as too large before any chunk is read")
    func oversizedFile() throws {
        let dir = try Self.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("over.wav").path
        try Self.sparse(path, header: try WAVFile.header(for: Self.stereo16, dataBytes: 0), size: Int(UInt32.max) + 9)
        #expect(throws: WAVError.tooLarge) { try WAVReader(path: path) }
    }

    @Test("Headers that announce more than the file holds are truncated, in words", arguments: ["riff", "data", "fmt", "header"])
    func truncatedHeaders(_ which: String) throws {
        var bytes = try WAVFile(format: Self.stereo16, data: [UInt8](repeating: 1, count: 400)).serialized()
        let expected: String
        switch which {
        case "riff":
            bytes[4] = 0xFF; bytes[5] = 0xFF; bytes[6] = 0xFF; bytes[7] = 0x7F
            expected = "RIFF announces"
        case "data":
            // The data chunk announces 4 GiB - 1 bytes; the RIFF size says the file ends sooner.
            bytes[40] = 0xFF; bytes[41] = 0xFF; bytes[42] = 0xFF; bytes[43] = 0xFF
            expected = "chunk 'data' at byte 36 announces 4294967295 bytes"
        case "fmt":
            bytes[16] = 0xFF; bytes[17] = 0xFF; bytes[18] = 0xFF; bytes[19] = 0xFF
            expected = "chunk 'fmt ' at byte 12 announces"
        default:
            bytes = Array(bytes.prefix(40))
            expected = "RIFF announces"
        }
        let dir = try Self.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("cut.wav").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        do {
            _ = try WAVReader(path: path)
            Issue.record("read")
        } catch {
            guard case .truncated = error else { Issue.record("\(error)"); return }
            #expect(error.description.contains(expected), "\(error)")
            #expect(!error.description.contains("\n"))
        }
        // The parser of bytes in memory says the same.
        var fromFile: WAVError?
        do { _ = try WAVReader(path: path) } catch { fromFile = error }
        #expect(throws: try #require(fromFile)) { try WAVFile.parse(bytes) }
    }

    @Test("200,000 empty chunks before fmt and data are walked (through a window, not a read per chunk) to the same header as in memory")
    func manySmallChunks() throws {
        let format = Self.stereo16
        let file = try WAVFile(format: format, data: [UInt8](repeating: 9, count: 400)).serialized()
        var bytes = Array(file[0..<12])
        for _ in 0..<200_000 { bytes += Array("JUNK".utf8) + [0, 0, 0, 0] }
        bytes += file[12...]
        let riff = UInt32(bytes.count - 8)
        for k in 0..<4 { bytes[4 + k] = UInt8(truncatingIfNeeded: riff >> (8 * UInt32(k))) }
        let dir = try Self.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("junk.wav").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let reader = try WAVReader(path: path)
        #expect(reader.header == (try WAVReader(bytes: bytes)).header)
        #expect(reader.header.dataOffset == 12 + 200_000 * 8 + 24 + 8)
        #expect(try reader.readAll() == [UInt8](repeating: 9, count: 400))
    }

    @Test("A named pipe with no writer is refused at once as not a regular file (opening it does not wait)")
    func namedPipe() throws {
        let dir = try Self.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("pipe.wav").path
        #expect(mkfifo(path, 0o644) == 0)
        #expect(throws: WAVError.io("\(path) is not a regular file")) { try WAVReader(path: path) }
    }

    @Test("A file that shrinks after its header was read is a truncated error when the data runs out, not a crash")
    func shrinksWhileRead() throws {
        let dir = try Self.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("shrink.wav").path
        try WAVFile(format: Self.stereo16, data: [UInt8](repeating: 3, count: 4000)).write(path: path)
        let reader = try WAVReader(path: path)
        #expect(truncate(path, 44 + 1000) == 0)
        var buffer = [UInt8](repeating: 0, count: 4000)
        #expect { try buffer.withUnsafeMutableBytes { try reader.read(into: $0, blocks: 1000) } } throws: { error in
            guard let e = error as? WAVError, case .truncated = e else { return false }
            return e.description.contains("the file ends at byte 1044")
        }
    }

    @Test("Reads in pieces of any block count give the file's data, chunks before and after the data skipped")
    func piecesEqualWhole() throws {
        let format = WAVFormat(sampleRate: 44100, channels: 3, bitsPerSample: 24)
        let data = (0..<(format.blockAlign * 1001)).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 1) }
        var bytes = try WAVFile(format: format, data: data).serialized()
        // A LIST chunk between fmt and data, and one after the data.
        let list: [UInt8] = Array("LIST".utf8) + [6, 0, 0, 0] + Array("abcdef".utf8)
        let fmtEnd = 12 + 8 + 40
        bytes.insert(contentsOf: list, at: fmtEnd)
        bytes += list
        let riff = UInt32(bytes.count - 8)
        for k in 0..<4 { bytes[4 + k] = UInt8(truncatingIfNeeded: riff >> (8 * UInt32(k))) }
        let dir = try Self.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("pieces.wav").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        for reader in [try WAVReader(path: path), try WAVReader(bytes: bytes)] {
            #expect(reader.header.dataOffset == fmtEnd + list.count + 8)
            var got: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 17 * format.blockAlign)
            for step in [1, 2, 17, 5, 3].cycled() {
                let n = try buffer.withUnsafeMutableBytes { try reader.read(into: $0, blocks: step) }
                if n == 0 { break }
                got += buffer[0..<(n * format.blockAlign)]
            }
            #expect(got == data)
            // A second reader of the same data starts at block 0.
            #expect(try reader.reopened().readAll() == data)
        }
    }
}

extension Array {
    /// The elements over and over.
    func cycled() -> AnySequence<Element> {
        AnySequence { () -> AnyIterator<Element> in
            var i = 0
            return AnyIterator { defer { i += 1 }; return self.isEmpty ? nil : self[i % self.count] }
        }
    }
}
