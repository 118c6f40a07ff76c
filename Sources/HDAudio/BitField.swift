/// A named range of bits in a register value, in the style of swift-mmio's field macros
/// (`@ReadWrite(bits: 16..<18, as: StripeControl.self)`): the register types of the map
/// declare their fields as bit fields, and everyone reads and writes a field through it
/// instead of shifting and masking by hand.
public struct BitField<Storage: FixedWidthInteger & UnsignedInteger & Sendable>: Hashable, Sendable {
    /// The bits, lowest first (`16..<18` is bits 17:16).
    public let bits: Range<Int>

    /// A field of the bits `bits` (inside the storage type).
    @inlinable public init(bits: Range<Int>) {
        precondition(bits.lowerBound >= 0 && bits.upperBound <= Storage.bitWidth && !bits.isEmpty,
                     "a field must be a non-empty range inside the register")
        self.bits = bits
    }

    /// A one-bit field.
    @inlinable public init(bit: Int) { self.init(bits: bit..<(bit + 1)) }

    /// The field's width in bits.
    @inlinable public var width: Int { bits.count }
    /// The field's largest value.
    @inlinable public var maxValue: Storage { width == Storage.bitWidth ? ~0 : (1 << Storage(width)) - 1 }
    /// The field's bits in place in the register (`0x3_0000` for bits 17:16).
    @inlinable public var mask: Storage { maxValue << Storage(bits.lowerBound) }

    /// The field's value in `raw`, shifted down.
    @inlinable public func extract(_ raw: Storage) -> Storage { (raw >> Storage(bits.lowerBound)) & maxValue }

    /// `raw` with the field set to `value` (bits of `value` above the field are dropped).
    @inlinable public func inserting(_ value: Storage, into raw: Storage) -> Storage {
        raw & ~mask | (value & maxValue) << Storage(bits.lowerBound)
    }

    /// `value` placed in the field, every other bit 0.
    @inlinable public func placing(_ value: Storage) -> Storage { inserting(value, into: 0) }

    /// The field's value in `raw` projected onto `type`; nil for a value the enum does not name.
    @inlinable public func extract<Value: RawRepresentable>(_ raw: Storage, as type: Value.Type) -> Value?
    where Value.RawValue == Storage {
        Value(rawValue: extract(raw))
    }

    /// `raw` with the field set to `value`'s raw value.
    @inlinable public func inserting<Value: RawRepresentable>(_ value: Value, into raw: Storage) -> Storage
    where Value.RawValue == Storage {
        inserting(value.rawValue, into: raw)
    }

    /// Whether a one-bit field is set in `raw`.
    @inlinable public func isSet(in raw: Storage) -> Bool { raw & mask != 0 }

    // The same operations on a wider word, for a register held in a 32-bit slot (the
    // virtual controller keeps every register that way).

    /// The field's bits in place, in a word of type `Word`.
    @inlinable public func mask<Word: FixedWidthInteger & UnsignedInteger>(as word: Word.Type) -> Word { Word(truncatingIfNeeded: mask) }

    /// The field's value in the word `raw`, shifted down.
    @inlinable public func extract<Word: FixedWidthInteger & UnsignedInteger>(word raw: Word) -> Word {
        (raw >> Word(bits.lowerBound)) & Word(truncatingIfNeeded: maxValue)
    }

    /// The word `raw` with the field set to `value`.
    @inlinable public func inserting<Word: FixedWidthInteger & UnsignedInteger>(word value: Word, into raw: Word) -> Word {
        raw & ~mask(as: Word.self) | (value & Word(truncatingIfNeeded: maxValue)) << Word(bits.lowerBound)
    }

    /// Whether a one-bit field is set in the word `raw`.
    @inlinable public func isSet<Word: FixedWidthInteger & UnsignedInteger>(inWord raw: Word) -> Bool { raw & mask(as: Word.self) != 0 }
}
