import Foundation

/// The real codec dumps shipped as test data (Tests/CodecDumps), each file's first line
/// naming the machine and its second where it was published.
public enum ShippedDumps {
    /// The folder holding them (its path: `folderPath`).
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("CodecDumps")

    /// The folder's path.
    public static var folderPath: String { folder.path }

    /// The file names, sorted.
    public static var files: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).filter { $0.hasSuffix(".txt") }.sorted()
    }

    /// The full path of a shipped file.
    public static func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    /// The text of a shipped file.
    public static func text(_ name: String) throws -> String { try String(contentsOfFile: path(name), encoding: .utf8) }

    /// Every codec of every file as `FILE#N`, with the codec count of each file as the file holds it.
    public static let codecCounts: [String: Int] = [
        "ad1984a-dell-optiplex-360.txt": 1,
        "alc269vb-asus-ux31a.txt": 2,
        "alc269vc-lenovo-thinkpad-t530.txt": 5,
        "alc282-asus-tx300ca.txt": 2,
        "cx20585-lenovo-thinkpad-t410s.txt": 2,
        "idt92hd81b1x5-hp-probook-6570b.txt": 2,
    ]

    /// `FILE#N` for every shipped codec.
    public static var codecSpecs: [String] {
        codecCounts.keys.sorted().flatMap { f in (0..<codecCounts[f]!).map { "\(f)#\($0)" } }
    }
}
