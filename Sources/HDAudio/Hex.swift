extension FixedWidthInteger {
    /// The value as `0x` and upper-case hex digits, zero-padded to the type's width
    /// (`0x4011` for a UInt16, `0xC0000008` for a UInt32), as registers are written.
    public var hexLiteral: String {
        let digits = String(self, radix: 16, uppercase: true)
        return "0x" + String(repeating: "0", count: Swift.max(0, bitWidth / 4 - digits.count)) + digits
    }
}

extension BinaryInteger {
    /// The value as `0x` and upper-case hex digits, zero-padded to at least `digits` digits
    /// (`0xF00` for a 12-bit verb, `0x080` for a register offset with `digits: 3`).
    public func hexLiteral(digits: Int) -> String {
        let text = String(self, radix: 16, uppercase: true)
        return "0x" + String(repeating: "0", count: Swift.max(0, digits - text.count)) + text
    }
}
