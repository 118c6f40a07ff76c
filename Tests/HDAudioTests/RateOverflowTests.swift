import HDAudio
import Testing

@Suite("Sample rates at the edge of UInt32")
struct RateOverflowTests {
    @Test("Rates of 2^29 Hz and above (where rate x 8 overflows 32 bits) are simply not expressible: no trap",
          arguments: [UInt32(1) << 29, (UInt32(1) << 29) + 1, UInt32(1) << 31, UInt32.max - 1, UInt32.max])
    func hugeRates(rate: UInt32) {
        #expect(RateEncoding(rate: rate) == nil)
        let format = StreamFormat(rate: rate, bits: 16, channels: 2)
        #expect(!format.isValid)
        #expect(format.problem?.contains("\(rate) Hz") == true)
        #expect(throws: NTStatus.invalidParameter) { try format.validate() }
        #expect(throws: NTStatus.invalidParameter) { try ConverterFormat(format) }
        #expect(throws: NTStatus.invalidParameter) { try LinkCadence(format) }
    }

    @Test("The largest expressible rate still encodes")
    func largestRate() throws {
        #expect(RateEncoding(rate: 192_000) == RateEncoding(base: .hz48000, multiplier: 4, divisor: 1))
        #expect(RateEncoding(rate: 176_400)?.base == .hz44100)
    }
}
