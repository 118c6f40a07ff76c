import Foundation
import Testing
@testable import Azalia
import HDACodec
import HDAController
import HDAudio
import HDAudioBus

/// The result of running the built `azalia` executable.
struct CLIRun {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Where the built `azalia` executable is: beside the test bundle in the build folder.
func azaliaExecutable() throws -> URL {
    let me = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    var dir = me.deletingLastPathComponent()
    for _ in 0..<4 {
        let candidate = dir.appendingPathComponent("azalia")
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        dir = dir.deletingLastPathComponent()
    }
    throw CLIHarnessError.executableNotFound(me.path)
}

enum CLIHarnessError: Error { case executableNotFound(String) }

/// Runs `azalia` with arguments as a user would, capturing both streams and the exit status.
func azalia(_ arguments: String..., input: String? = nil) throws -> CLIRun {
    try azalia(arguments: arguments)
}

/// Runs `azalia` with an argument array.
func azalia(arguments: [String]) throws -> CLIRun {
    let process = Process()
    process.executableURL = try azaliaExecutable()
    process.arguments = arguments
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    try process.run()
    // Read both pipes before waiting so a large output cannot block the child.
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return CLIRun(status: process.terminationStatus,
                  stdout: String(decoding: outData, as: UTF8.self),
                  stderr: String(decoding: errData, as: UTF8.self))
}

/// Parses JSON text into a dictionary.
func jsonObject(_ text: String) throws -> [String: Any] {
    let value = try JSONSerialization.jsonObject(with: Data(text.utf8))
    guard let object = value as? [String: Any] else { throw CLIHarnessError.executableNotFound("not a JSON object") }
    return object
}

/// A fresh temporary directory for one test.
func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("azalia-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Writes raw bytes to a file in `dir`.
func writeTestFile(_ bytes: [UInt8], _ dir: URL, _ name: String) throws -> String {
    let path = dir.appendingPathComponent(name).path
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    return path
}

func le16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8)] }

func le32(_ v: UInt32) -> [UInt8] { le16(UInt16(v & 0xFFFF)) + le16(UInt16(v >> 16)) }

/// A 16-bit stereo signal with every byte odd (no block of it is silence).
func loudSignal(_ format: StreamFormat, blocks: Int) -> [UInt8] {
    var data = AudioPath.testSignal(format: format, blocks: blocks)
    for i in data.indices { data[i] |= 1 }
    return data
}
