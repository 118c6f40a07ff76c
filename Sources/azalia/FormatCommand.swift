import ArgumentParser
import HDAudio

/// `azalia format`: encode a stream format to its converter format, or decode one.
struct FormatCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "format",
        abstract: "Encode a stream format as an HD Audio converter format (SDnFMT), or decode one.",
        discussion: """
            Rates: any base x mult / div that is exact, base 48000 or 44100, mult 1-4, div 1-8
            (\(RateEncoding.allRates.map(String.init).joined(separator: ", "))).
            Bits: 8, 16, 20, 24, 32. Container: 8, 16 or 32 (default: the smallest that holds the bits).
            Channels: 1-16.

            Examples:
              azalia format --rate 44100 --bits 16 --channels 2
              azalia format 96000/24/2 --json
              azalia format --decode 0x4011
            """)

    @Argument(help: "The format as RATE/BITS/CHANNELS (or RATE/BITSinCONTAINER/CHANNELS), instead of the options.")
    var compact: String?

    @Option(help: "Sample rate in Hz.")
    var rate: UInt32?

    @Option(help: "Valid bits per sample: 8, 16, 20, 24 or 32.")
    var bits: UInt16?

    @Option(help: "Container size in bits: 8, 16 or 32.")
    var container: UInt16?

    @Option(help: "Number of channels, 1-16.")
    var channels: UInt16?

    @Option(help: "A converter format value to decode (hex with 0x, or decimal).")
    var decode: String?

    @Flag(help: "Print JSON.")
    var json = false

    func validate() throws {
        let encodeAsked = compact != nil || rate != nil || bits != nil || channels != nil || container != nil
        if decode != nil && encodeAsked {
            throw ValidationError("give either --decode or a format to encode, not both")
        }
        if decode == nil && compact == nil && (rate == nil || bits == nil || channels == nil) {
            throw ValidationError("give --rate, --bits and --channels (or RATE/BITS/CHANNELS), or --decode VALUE")
        }
        if compact != nil && (rate != nil || bits != nil || channels != nil || container != nil) {
            throw ValidationError("give the format either as RATE/BITS/CHANNELS or with options, not both")
        }
    }

    /// What the command prints as JSON.
    struct Report: Encodable {
        var converterFormat: String
        var value: UInt16
        var sampleRate: UInt32
        var base: UInt32
        var multiplier: UInt32
        var divisor: UInt32
        var bitsPerSample: UInt16
        var containerSize: UInt16
        var channels: UInt16
    }

    func run() throws {
        try reportingFailures {
            let report: Report
            if let text = decode {
                report = try decodeReport(text)
            } else {
                report = try encodeReport()
            }
            if json {
                try printJSON(report)
            } else {
                print("\(report.converterFormat)  \(report.sampleRate) Hz (\(report.base) x \(report.multiplier) / \(report.divisor)), "
                      + "\(report.bitsPerSample)-bit in \(report.containerSize)-bit containers, \(report.channels) channel\(report.channels == 1 ? "" : "s")")
            }
        }
    }

    private func encodeReport() throws -> Report {
        let format: StreamFormat
        if let compact {
            guard let parsed = StreamFormat(compact: compact) else {
                throw CLIFailure("'\(compact)' is not RATE/BITS/CHANNELS (for example 48000/16/2)")
            }
            format = parsed
        } else {
            let b = bits!
            format = StreamFormat(sampleRate: rate!, validBitsPerSample: b,
                                  containerSize: container ?? StreamFormat.container(forBits: b), numberOfChannels: channels!)
        }
        if let problem = format.problem {
            throw CLIFailure("cannot encode \(format.compact): \(problem) (\(NTStatus.invalidParameter))")
        }
        let encoded = try ConverterFormat(format)
        return report(encoded, format)
    }

    private func decodeReport(_ text: String) throws -> Report {
        let trimmed = text.lowercased().hasPrefix("0x") ? String(text.dropFirst(2)) : text
        let radix = text.lowercased().hasPrefix("0x") ? 16 : 10
        guard let raw = UInt16(trimmed, radix: radix) else {
            throw CLIFailure("'\(text)' is not a 16-bit value (use hex with 0x, or decimal)")
        }
        let value = ConverterFormat(rawValue: raw)
        do {
            return report(value, try value.decode())
        } catch {
            throw CLIFailure("cannot decode \(value.hexString): \(error)")
        }
    }

    private func report(_ value: ConverterFormat, _ format: StreamFormat) -> Report {
        let rate = value.rateEncoding
        return Report(converterFormat: value.hexString, value: value.rawValue, sampleRate: format.sampleRate,
                      base: rate.base.rawValue, multiplier: rate.multiplier, divisor: rate.divisor,
                      bitsPerSample: format.validBitsPerSample, containerSize: format.containerSize,
                      channels: format.numberOfChannels)
    }
}
