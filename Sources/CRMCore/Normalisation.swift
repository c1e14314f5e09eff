import Foundation

/// How text is cleaned on the way in, so that the same person typed twice looks the same:
/// full-width characters folded (ＡＢＣ１２３ → ABC123, as Chinese input methods produce),
/// whitespace trimmed and collapsed, e-mails lower-cased, phones in E.164.
public enum Normalise {
    /// Whitespace and newlines trimmed from both ends; the string itself when there are none
    /// (most cells of an import). Not Foundation's `trimmingCharacters`, which goes through
    /// NSString on Linux and cost 3% of a customer import.
    public static func trimmed(_ text: String) -> String {
        guard let first = text.unicodeScalars.first, let last = text.unicodeScalars.last else { return text }
        if !first.properties.isWhitespace && !last.properties.isWhitespace { return text }
        return trimmed(Substring(text))
    }

    public static func trimmed(_ text: Substring) -> String {
        let scalars = text.unicodeScalars
        guard let start = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
              let end = scalars.lastIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        return String(scalars[start...end])
    }

    /// NFKC folds full-width Latin letters, digits and punctuation to ASCII and leaves
    /// Chinese characters alone; then runs of whitespace (including the ideographic
    /// space U+3000) become one space.
    public static func name(_ raw: String) -> String {
        // Printable ASCII and Chinese characters with single inner spaces are already normal
        // (SKUs, ids, most names): NFKC would return them unchanged, at a cost (Foundation,
        // through NSString) an import pays per cell.
        var plain = true
        var previousSpace = true
        for scalar in raw.unicodeScalars {
            if scalar.value == 0x20 {
                if previousSpace { plain = false; break }
                previousSpace = true
            } else if isPlain(scalar) {
                previousSpace = false
            } else {
                plain = false; break
            }
        }
        if plain && !previousSpace { return raw }
        let folded = raw.precomposedStringWithCompatibilityMapping
        return folded.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
    }

    /// A character NFKC leaves as it is and that is a whole character on its own, whatever
    /// stands beside it: printable ASCII other than space, the CJK ideographs of the basic
    /// block and extension A, and the middle dot of transliterated names (约翰·史密斯).
    public static func isPlain(_ scalar: Unicode.Scalar) -> Bool {
        let v = scalar.value
        return (v > 0x20 && v < 0x7F) || (0x4E00...0x9FFF).contains(v) || (0x3400...0x4DBF).contains(v) || v == 0xB7
    }

    /// Lower-cased, folded e-mail; nil if it is not plausibly an address (one @, a dot in
    /// the domain, no spaces). Deliverability is for the mail server to say, not us.
    public static func email(_ raw: String) -> String? {
        let value = lowercased(name(raw))
        // On the UTF-8 bytes: `contains(" ")` with a string goes through Foundation's NSString.
        let bytes = Array(value.utf8)
        guard let at = bytes.firstIndex(of: UInt8(ascii: "@")), at > 0, !bytes.contains(UInt8(ascii: " ")) else { return nil }
        let domain = bytes[(at + 1)...]
        guard !domain.contains(UInt8(ascii: "@")), domain.contains(UInt8(ascii: ".")), domain.first != UInt8(ascii: "."),
              domain.last != UInt8(ascii: "."), !zip(domain, domain.dropFirst()).contains(where: { $0 == UInt8(ascii: ".") && $1 == UInt8(ascii: ".") })
        else { return nil }
        // A combining mark after `@` or `.` makes it part of another character, where code
        // that splits the address by character would not find it: refused as not an address.
        if bytes.contains(where: { $0 >= 0x80 }) {
            guard value.count(where: { $0 == "@" }) == 1,
                  value.count(where: { $0 == "." }) == bytes.count(where: { $0 == UInt8(ascii: ".") }) else { return nil }
        }
        return value
    }

    /// `text.lowercased()`, without the Unicode tables for plain text (`plainLowercased`).
    static func lowercased(_ text: String) -> String {
        plainLowercased(text) ?? text.lowercased()
    }

    /// The lower-cased text if it is all plain characters and spaces (ASCII, where only A–Z
    /// change, and ideographs, which have no case); nil otherwise.
    static func plainLowercased(_ text: String) -> String? {
        guard text.unicodeScalars.allSatisfy({ $0.value == 0x20 || isPlain($0) }) else { return nil }
        guard text.utf8.contains(where: { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }) else { return text }
        return String(decoding: text.utf8.map { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") ? $0 + 32 : $0 }, as: UTF8.self)
    }

    /// E.164 (`+8613812345678`). Numbers without a country code get `defaultCountryCode`
    /// (86 unless configured); a leading trunk 0 is dropped for them; `00` means `+`.
    /// Nil when the digits cannot be a phone number (E.164 allows 8 to 15 digits).
    public static func phone(_ raw: String, defaultCountryCode: String = "86") -> String? {
        let folded = name(raw)
        var international = false
        var digits = ""
        for (index, ch) in folded.enumerated() {
            if ch == "+" && index == 0 { international = true; continue }
            if ch.isASCII && ch.isNumber { digits.append(ch); continue }
            if " -().".contains(ch) { continue }
            return nil
        }
        if !international && digits.hasPrefix("00") {
            international = true
            digits.removeFirst(2)
        }
        if !international {
            if digits.hasPrefix("0") { digits.removeFirst() }
            digits = defaultCountryCode + digits
        }
        guard (8...15).contains(digits.count), digits.first != "0" else { return nil }
        return "+" + digits
    }

    /// The form search compares against: folded, lower-cased, without spaces, so that
    /// "张 伟", "张伟" and "ＺＨＡＮＧ" all meet their query.
    public static func searchKey(_ raw: String) -> String {
        let folded = name(raw)
        // Plain characters and spaces (most names): the only whitespace is the space byte.
        if let lower = plainLowercased(folded) { return String(decoding: lower.utf8.filter { $0 != UInt8(ascii: " ") }, as: UTF8.self) }
        return folded.lowercased().filter { !$0.isWhitespace }
    }
}

/// The n-grams a customer is indexed under: every pair of neighbouring characters of each
/// searchable value, and every single Chinese character. A one-character query (张) looks
/// up its unigram, a longer one (张伟, smith) all its bigrams, then the candidates are
/// confirmed by substring; this finds Chinese names by any substring without a tokenizer,
/// on SQLite and PostgreSQL alike. Single Latin letters and digits are not indexed: a
/// one-letter query matches most of the database and says nothing, and leaving them out
/// keeps the index (mostly e-mails and phone numbers) half the size.
public enum SearchGrams {
    public static func grams(of values: [String]) -> Set<String> {
        grams(ofKeys: values.map(Normalise.searchKey))
    }

    /// The grams of values already in search-key form (`Normalise.searchKey`).
    public static func grams(ofKeys keys: [String]) -> Set<String> {
        var result = Set<String>()
        for key in keys {
            // In nearly every key each scalar is a whole character: split by scalar, which
            // skips the search for grapheme boundaries (a third of this work).
            let chars: [String] = key.unicodeScalars.allSatisfy(Normalise.isPlain) ? key.unicodeScalars.map(String.init) : key.map(String.init)
            for (i, c) in chars.enumerated() {
                if let first = c.unicodeScalars.first, isIdeograph(first) { result.insert(c) }
                if i + 1 < chars.count { result.insert(c + chars[i + 1]) }
            }
        }
        return result
    }

    /// The grams that must all be present for `query` to be a substring of a value; empty
    /// for a single character that is not indexed alone (a Latin letter or a digit).
    public static func queryGrams(_ query: String) -> [String] {
        let chars = Array(Normalise.searchKey(query))
        if chars.count == 1 { return isIdeograph(chars[0]) ? [String(chars[0])] : [] }
        var seen = Set<String>()
        var result: [String] = []
        for i in 0..<max(chars.count - 1, 0) {
            let g = String([chars[i], chars[i + 1]])
            if seen.insert(g).inserted { result.append(g) }
        }
        return result
    }

    /// CJK ideographs (the basic block, extension A, and the supplementary planes' ideographs).
    public static func isIdeograph(_ c: Character) -> Bool {
        guard let scalar = c.unicodeScalars.first else { return false }
        return isIdeograph(scalar)
    }

    static func isIdeograph(_ scalar: Unicode.Scalar) -> Bool {
        let v = scalar.value
        return (0x4E00...0x9FFF).contains(v) || (0x3400...0x4DBF).contains(v) || (0x20000...0x3134F).contains(v) || (0xF900...0xFAFF).contains(v)
    }
}
