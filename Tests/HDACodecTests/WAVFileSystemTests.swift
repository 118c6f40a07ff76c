import Foundation
import Testing
import TestSupport
import HDAudio
@testable import HDACodec

@Suite("WAV files on the file system: links, hostile chunk ids, I/O errors in words")
struct WAVFileSystemTests {
    static func directory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("azalia-wavfs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    static func validFile() throws -> WAVFile {
        WAVFile(format: WAVFormat(sampleRate: 48000, channels: 2, bitsPerSample: 16, validBitsPerSample: 16),
                data: [UInt8](repeating: 7, count: 64))
    }

    @Test("A symbolic link to a valid WAV file is read through (and a link to a link)")
    func symlinkFollowed() throws {
        let dir = try WAVFileSystemTests.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = try WAVFileSystemTests.validFile()
        let real = dir.appendingPathComponent("real.wav").path
        try file.write(path: real)
        let link = dir.appendingPathComponent("link.wav").path
        let link2 = dir.appendingPathComponent("link2.wav").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: real)
        try FileManager.default.createSymbolicLink(atPath: link2, withDestinationPath: "link.wav")
        #expect(try WAVFile.read(path: link) == file)
        #expect(try WAVFile.read(path: link2) == file)
        // A link to a directory is still refused, in words.
        let dirLink = dir.appendingPathComponent("dir.wav").path
        try FileManager.default.createSymbolicLink(atPath: dirLink, withDestinationPath: dir.path)
        #expect(throws: WAVError.self) { try WAVFile.read(path: dirLink) }
    }

    @Test("A chunk id's raw bytes never reach the message: control characters and escapes are written as \\xNN")
    func chunkIdEscaped() throws {
        var bytes = Array("RIFF".utf8) + [12, 0, 0, 0] + Array("WAVE".utf8)
        bytes += [0x1B, 0x5B, 0x0A, 0x5C] + [0xFF, 0xFF, 0, 0]   // ESC [ newline backslash, size too large
        do {
            _ = try WAVFile.parse(bytes)
            Issue.record("parsed")
        } catch {
            let text = error.description
            #expect(!text.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F })
            #expect(text.contains("\\x1B[\\x0A\\\\"), "message: \(text)")
        }
        #expect(WAVFile.printable([0x41, 0x00, 0x7F, 0xC3]) == "A\\x00\\x7F\\xC3")
    }

    @Test("Writing into a directory or a missing directory says what went wrong, not a Foundation error number")
    func writeErrorsInWords() throws {
        let dir = try WAVFileSystemTests.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = try WAVFileSystemTests.validFile()
        for (path, words) in [(dir.path, "directory"), (dir.appendingPathComponent("none/x.wav").path, "director")] {
            do {
                try file.write(path: path)
                Issue.record("wrote \(path)")
            } catch {
                #expect(!error.description.contains("NSCocoaErrorDomain"), "\(error)")
                #expect(!error.description.contains("error 512"), "\(error)")
                #expect(error.description.lowercased().contains(words), "\(error)")
            }
        }
    }
}
