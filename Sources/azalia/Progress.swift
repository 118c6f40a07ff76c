import Foundation

/// Shows the progress of a long run: a bar redrawn in place on a terminal, plain lines otherwise.
final class ProgressReporter {
    private let label: String
    private let isTerminal: Bool
    private let enabled: Bool
    private var lastTenth = -1
    private var lastDrawn = -1

    /// A reporter writing to standard error; `enabled` false makes it silent (for --json).
    init(label: String, enabled: Bool = true) {
        self.label = label
        self.enabled = enabled
        isTerminal = isatty(STDERR_FILENO) == 1
    }

    /// Reports `done` of `total` (any unit).
    func update(done: UInt64, total: UInt64) {
        guard enabled, total > 0 else { return }
        let fraction = min(1, Double(done) / Double(total))
        if isTerminal {
            let percent = Int(fraction * 100)
            guard percent != lastDrawn else { return }
            lastDrawn = percent
            let width = 30
            let filled = Int(fraction * Double(width))
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            write("\r\(label) [\(bar)] \(percent)%")
        } else {
            let tenth = Int(fraction * 10)
            guard tenth != lastTenth else { return }
            lastTenth = tenth
            write("\(label): \(tenth * 10)%\n")
        }
    }

    /// Ends the bar's line on a terminal.
    func finish() {
        guard enabled, isTerminal, lastDrawn >= 0 else { return }
        write("\n")
    }

    private func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
