import CRMCore
@testable import CRMStore
import Foundation
import Testing

@Suite("JSON columns read without a decoder")
struct JSONColumnTests {
    static let fieldTexts = [
        #"{}"#, #"{"a":"x"}"#, #"{"a":1,"b":"y"}"#, #"{"a":-0.5e+3}"#, #"{"区域":"华东","n":0}"#, #"{"a":"},{:,"}"#,
        #"{"a":1,}"#, #"{"a":01}"#, #"{"a":1.}"#, #"{"a":-.5}"#, #"{"a":1e400}"#, #"{"a": 1}"#, #"{"a":"x\"y"}"#, #"{"a":[1]}"#,
        #"{"a":true}"#, #"{"a":1e}"#, #"{"a":-}"#, #"{"a"}"#, #"{"a":"x""b":1}"#, #"{,}"#,
    ]
    static let listTexts = [#"[""]"#, #"["",""]"#, #"["a",",","b"]"#, #"["a"],["b"]"#, #"["]"#, #"["a","b"]"#, #"["a\"b"]"#, #"[ "a"]"#]

    /// Whatever the fast path accepts, it reads as JSONDecoder does; what JSONDecoder refuses,
    /// it leaves to JSONDecoder (which then reports it).
    @Test(arguments: fieldTexts)
    func customFieldsReadAsTheDecoderReadsThem(text: String) {
        let decoded = try? JSONDecoder().decode([String: CustomFieldValue].self, from: Data(text.utf8))
        let fast = JSONColumn.plainFields(text)
        if decoded == nil { #expect(fast == nil) } else if let fast { #expect(fast == decoded) }
    }

    @Test(arguments: listTexts)
    func listsReadAsTheDecoderReadsThem(text: String) {
        let decoded = try? JSONDecoder().decode([String].self, from: Data(text.utf8))
        let fast = JSONColumn.plainStrings(text)
        if decoded == nil { #expect(fast == nil) } else if let fast { #expect(fast == decoded) }
    }

    @Test func plainFieldsAreReadFast() {
        #expect(JSONColumn.plainFields(#"{"a":1,"b":"y"}"#) == ["a": .number(1), "b": .text("y")])
        #expect(JSONColumn.plainStrings(#"["a",",","b"]"#) == ["a", ",", "b"])
    }
}

@Suite("CSV fields")
struct CSVFieldTests {
    /// A field is quoted when it must be (also a CR LF pair, one character to Swift), quotes
    /// inside doubled, and what a spreadsheet would run as a formula is quoted and prefixed '.
    @Test func fieldsAreQuotedWhenTheyMustBe() {
        let cases: [(String, String)] = [
            ("", ""), ("张伟", "张伟"), ("a,b", "\"a,b\""), ("a\r\nb", "\"a\r\nb\""), ("say \"hi\"", "\"say \"\"hi\"\"\""),
            ("=SUM(A1)", "\"'=SUM(A1)\""), ("+86 138", "\"'+86 138\""), ("-5", "\"'-5\""), ("@x", "\"'@x\""), ("\"", "\"\"\"\""),
            ("é\u{301},", "\"é\u{301},\""),
        ]
        for (field, expected) in cases { #expect(ImportProblemFile.quoted(field) == expected, "\(field)") }
    }
}
