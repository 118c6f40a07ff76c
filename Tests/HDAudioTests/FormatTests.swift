import Testing
import HDAudio

/// The rate table of reference section 2: rate, rate bits of the converter format.
let referenceRateTable: [(UInt32, UInt16)] = [
    (6000, 0x0700), (8000, 0x0500), (9600, 0x0400), (11025, 0x4300), (16000, 0x0200),
    (22050, 0x4100), (24000, 0x0100), (32000, 0x0A00), (44100, 0x4000), (48000, 0x0000),
    (88200, 0x4800), (96000, 0x0800), (176400, 0x5800), (192000, 0x1800),
]

@Suite("Converter format encoding")
struct ConverterFormatEncodingTests {
    @Test("Every rate of the reference table encodes to its rate bits", arguments: referenceRateTable)
    func referenceTable(rate: UInt32, bits: UInt16) throws {
        let encoded = try ConverterFormat(StreamFormat(rate: rate, bits: 16, channels: 1))
        #expect(encoded.rawValue & 0xFF00 == bits, "rate \(rate)")
        #expect(encoded.rawValue & 0x00FF == 0x10)
    }

    @Test("The reference's worked examples encode exactly")
    func workedExamples() throws {
        #expect(try ConverterFormat(StreamFormat(rate: 48000, bits: 16, channels: 2)).rawValue == 0x0011)
        #expect(try ConverterFormat(StreamFormat(rate: 44100, bits: 16, channels: 2)).rawValue == 0x4011)
        #expect(try ConverterFormat(StreamFormat(rate: 96000, bits: 24, channels: 2)).rawValue == 0x0831)
    }

    @Test("Rates outside the table encode when base x mult / div gives them exactly")
    func offTableRates() throws {
        // 12000 = 48k / 4, 64000 = 48k x 4 / 3, 144000 = 48k x 3.
        #expect(try ConverterFormat(StreamFormat(rate: 12000, bits: 8, channels: 1)).rawValue == 0x0300)
        #expect(try ConverterFormat(StreamFormat(rate: 64000, bits: 8, channels: 1)).rawValue == 0x1A00)
        #expect(try ConverterFormat(StreamFormat(rate: 144000, bits: 8, channels: 1)).rawValue == 0x1000)
    }

    @Test("The smallest multiplier, then the smallest divisor, is chosen")
    func smallestEncodingWins() {
        for rate in RateEncoding.allRates {
            let chosen = RateEncoding(rate: rate)!
            // Brute force over every encoding that gives the rate, ordered (mult, div).
            var candidates: [(UInt32, UInt32)] = []
            for base in BaseRate.allCases {
                for m in RateEncoding.multipliers {
                    for d in RateEncoding.divisors where base.rawValue * m == rate * d { candidates.append((m, d)) }
                }
            }
            let best = candidates.min { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }!
            #expect(chosen.multiplier == best.0 && chosen.divisor == best.1, "rate \(rate)")
            #expect(chosen.base.rawValue * chosen.multiplier == rate * chosen.divisor)
        }
    }

    @Test("384 kHz and other inexpressible rates are not encodable")
    func inexpressibleRates() {
        for rate: UInt32 in [0, 1, 7000, 44000, 384_000, 352_800, 200_000] {
            #expect(RateEncoding(rate: rate) == nil, "rate \(rate)")
            #expect(throws: NTStatus.invalidParameter) { try ConverterFormat(StreamFormat(rate: rate, bits: 16, channels: 2)) }
        }
    }

    @Test("Round trip over every legal rate, sample size and channel count")
    func roundTripEveryLegalFormat() throws {
        var count = 0
        for rate in RateEncoding.allRates {
            for bits in StreamFormat.legalSampleBits {
                for channels in StreamFormat.legalChannels {
                    let format = StreamFormat(rate: rate, bits: bits, channels: channels)
                    let encoded = try ConverterFormat(format)
                    let decoded = try encoded.decode()
                    #expect(decoded == format)
                    #expect(encoded.rawValue & 0x8080 == 0)
                    count += 1
                }
            }
        }
        #expect(count == RateEncoding.allRates.count * 5 * 16)
    }

    @Test("Formats with larger containers encode the valid bits, not the container")
    func containerDoesNotChangeEncoding() throws {
        let loose = StreamFormat(sampleRate: 48000, validBitsPerSample: 16, containerSize: 32, numberOfChannels: 2)
        #expect(try ConverterFormat(loose).rawValue == 0x0011)
        let tight = StreamFormat(sampleRate: 48000, validBitsPerSample: 20, containerSize: 32, numberOfChannels: 2)
        #expect(try ConverterFormat(tight).rawValue == 0x0021)
    }
}

@Suite("Converter format decoding")
struct ConverterFormatDecodingTests {
    @Test("Bit 7 set is a decode error")
    func reservedBit7() {
        #expect(throws: ConverterFormat.DecodeError.reservedBitSet) { try ConverterFormat(rawValue: 0x0091).decode() }
    }

    @Test("Reserved MULT values are decode errors", arguments: [UInt16(4), 5, 6, 7])
    func reservedMultiplier(mult: UInt16) {
        #expect(throws: ConverterFormat.DecodeError.reservedMultiplier(mult)) {
            try ConverterFormat(rawValue: mult << 11 | 0x0011).decode()
        }
    }

    @Test("Reserved BITS values are decode errors", arguments: [UInt16(5), 6, 7])
    func reservedBits(bits: UInt16) {
        #expect(throws: ConverterFormat.DecodeError.reservedBits(bits)) {
            try ConverterFormat(rawValue: bits << 4 | 0x0001).decode()
        }
    }

    @Test("Non-PCM values are not decoded")
    func nonPCM() {
        #expect(throws: ConverterFormat.DecodeError.nonPCM) { try ConverterFormat(rawValue: 0x8011).decode() }
    }

    @Test("A legal value whose rate is not whole Hz is an error, not a rounded rate")
    func fractionalRate() {
        // 44100 / 8 = 5512.5 Hz.
        #expect(throws: ConverterFormat.DecodeError.self) { try ConverterFormat(rawValue: 0x4711).decode() }
    }

    @Test("Every one of the 65536 values either decodes to a format that re-encodes to it, or is rejected")
    func exhaustiveDecode() {
        var decoded = 0
        for raw in 0...UInt16.max {
            let value = ConverterFormat(rawValue: raw)
            guard let format = try? value.decode() else { continue }
            decoded += 1
            // Re-encoding may choose a smaller encoding of the same rate (0x0900 is 48k x2 / 2 = 48k).
            let again = try? ConverterFormat(format)
            #expect(again != nil)
            #expect(again.map { (try? $0.decode()) == format } == true)
            if let rate = RateEncoding(rate: format.sampleRate), rate == value.rateEncoding {
                #expect(again?.rawValue == raw)
            }
        }
        #expect(decoded > 0)
    }
}

@Suite("Stream format validation")
struct StreamFormatValidationTests {
    @Test("Valid bits must be 8, 16, 20, 24 or 32", arguments: [UInt16(0), 1, 7, 12, 18, 31, 33, 64])
    func badValidBits(bits: UInt16) {
        let f = StreamFormat(sampleRate: 48000, validBitsPerSample: bits, containerSize: 32, numberOfChannels: 2)
        #expect(throws: NTStatus.invalidParameter) { try f.validate() }
        #expect(!f.isValid)
    }

    @Test("Container must be 8, 16 or 32 (no 24-bit container)", arguments: [UInt16(0), 4, 12, 20, 24, 64])
    func badContainer(container: UInt16) {
        let f = StreamFormat(sampleRate: 48000, validBitsPerSample: 8, containerSize: container, numberOfChannels: 2)
        #expect(throws: NTStatus.invalidParameter) { try f.validate() }
    }

    @Test("Valid bits above the container are invalid")
    func bitsAboveContainer() {
        for (bits, container): (UInt16, UInt16) in [(16, 8), (20, 16), (24, 16), (32, 16)] {
            let f = StreamFormat(sampleRate: 48000, validBitsPerSample: bits, containerSize: container, numberOfChannels: 2)
            #expect(throws: NTStatus.invalidParameter) { try f.validate() }
        }
    }

    @Test("Channels must be 1 to 16", arguments: [UInt16(0), 17, 255])
    func badChannels(channels: UInt16) {
        let f = StreamFormat(sampleRate: 48000, validBitsPerSample: 16, containerSize: 16, numberOfChannels: channels)
        #expect(throws: NTStatus.invalidParameter) { try f.validate() }
        #expect(throws: NTStatus.invalidParameter) { try ConverterFormat(f) }
    }

    @Test("Every invalid field has a problem description")
    func problemsAreDescribed() {
        #expect(StreamFormat(rate: 384_000, bits: 16, channels: 2).problem?.contains("384000") == true)
        #expect(StreamFormat(rate: 48000, bits: 16, channels: 0).problem?.contains("channel") == true)
        #expect(StreamFormat(rate: 48000, bits: 16, channels: 2).problem == nil)
    }

    @Test("Compact text round trips and rejects other shapes")
    func compactForm() {
        #expect(StreamFormat(compact: "48000/16/2") == StreamFormat(rate: 48000, bits: 16, channels: 2))
        #expect(StreamFormat(compact: "48000/20in32/2")?.containerSize == 32)
        #expect(StreamFormat(compact: "48000/16in32/2")?.compact == "48000/16in32/2")
        for bad in ["", "48000", "48000/16", "a/16/2", "48000/16/2/1", "48000/xin32/2", "48000/16in/2"] {
            #expect(StreamFormat(compact: bad) == nil, "\(bad)")
        }
    }

    @Test("Block sizes: containers in memory, valid bits on the link")
    func blockSizes() {
        let f = StreamFormat(rate: 96000, bits: 24, channels: 6)
        #expect(f.blockBytes == 24)
        #expect(f.linkBitsPerBlock == 144)
    }
}

@Suite("Status and state vocabulary")
struct StatusVocabularyTests {
    @Test("NTSTATUS raw values and names match hdaudio.h")
    func statusValues() {
        let expected: [(NTStatus, UInt32, String)] = [
            (.success, 0x0000_0000, "STATUS_SUCCESS"), (.unsuccessful, 0xC000_0001, "STATUS_UNSUCCESSFUL"),
            (.invalidHandle, 0xC000_0008, "STATUS_INVALID_HANDLE"), (.invalidParameter, 0xC000_000D, "STATUS_INVALID_PARAMETER"),
            (.invalidDeviceRequest, 0xC000_0010, "STATUS_INVALID_DEVICE_REQUEST"),
            (.bufferTooSmall, 0xC000_0023, "STATUS_BUFFER_TOO_SMALL"),
            (.insufficientResources, 0xC000_009A, "STATUS_INSUFFICIENT_RESOURCES"),
            (.deviceNotReady, 0xC000_00A3, "STATUS_DEVICE_NOT_READY"),
        ]
        #expect(NTStatus.allKnown.count == expected.count)
        for (status, raw, name) in expected {
            #expect(status.rawValue == raw)
            #expect(status.name == name)
            #expect(NTStatus(name: name) == status)
            #expect(status.isSuccess == (raw == 0))
        }
        #expect(NTStatus.invalidHandle.description == "STATUS_INVALID_HANDLE (0xC0000008)")
        #expect(NTStatus(rawValue: 0xC000_0999).name == nil)
    }

    @Test("Hex literals are zero-padded to the register's width")
    func hexLiterals() {
        #expect(UInt16(0x11).hexLiteral == "0x0011")
        #expect(UInt32(0xC000_0008).hexLiteral == "0xC0000008")
        #expect(UInt8(0).hexLiteral == "0x00")
        #expect(ConverterFormat(rawValue: 0x4011).hexString == "0x4011")
    }

    @Test("Stop and Pause are the same state; Run to Reset and Reset to Run are refused")
    func streamStates() {
        #expect(StreamState.reset.rawValue == 0 && StreamState.stop.rawValue == 1 && StreamState.run.rawValue == 2)
        #expect(StreamState.pause == .stop)
        #expect(!StreamState.run.canMove(to: .reset))
        #expect(!StreamState.reset.canMove(to: .run))
        #expect(StreamState.run.canMove(to: .pause) && StreamState.pause.canMove(to: .reset))
    }
}
