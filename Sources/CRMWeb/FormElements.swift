import Plot

/// Form controls Plot does not spell the way the pages need: options with visible text
/// (Plot's `option` is attribute-only) and selects with a name.
enum FormElements {
    typealias Choice = (value: String, label: String, selected: Bool)

    static func select<Context>(id: String, name: String, _ choices: [Choice]) -> Node<Context> {
        .element(named: "select", nodes: [
            .attribute(named: "id", value: id),
            .attribute(named: "name", value: name),
        ] + choices.map { choice in
            .element(named: "option", nodes: [
                // Kept when empty: an option without a value would submit its label.
                .attribute(Attribute(name: "value", value: choice.value.attributeEscaped, ignoreIfValueIsEmpty: false)),
                .if(choice.selected, .attribute(named: "selected", value: "selected")),
                .text(choice.label),
            ])
        })
    }

    /// An expandable panel (a quick form on the 360 page) that opens without JavaScript.
    static func details<Context>(id: String, summary: String, open: Bool, _ content: Node<Context>) -> Node<Context> {
        .element(named: "details", nodes: [
            .attribute(named: "class", value: "action card"),
            .if(open, .attribute(named: "open", value: "open")),
            .element(named: "summary", nodes: [
                .attribute(named: "class", value: "button"),
                .attribute(named: "id", value: id),
                .text(summary),
            ]),
            content,
        ])
    }
}

extension String {
    /// The text made safe inside a double-quoted attribute. Plot escapes text nodes but
    /// writes attribute values as given, so every value that may hold typed or requested
    /// text (a name in a form field, the path to come back to) goes through this.
    var attributeEscaped: String {
        guard contains(where: { $0 == "&" || $0 == "\"" || $0 == "<" || $0 == ">" || $0 == "'" }) else { return self }
        var out = ""
        out.reserveCapacity(count + 16)
        for ch in self {
            switch ch {
            case "&": out += "&amp;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            default: out.append(ch)
            }
        }
        return out
    }
}
