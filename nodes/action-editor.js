// What the three action nodes' editor scripts share. Node-RED loads each node's .html on its
// own, so the build puts this file in place of the "// @include action-editor.js" line in each
// one (inside that node's own closure); it is not shipped as a file of its own.
function actionEditor(type) {
    var ns = type + ".";

    // This node's translations: Node-RED gives the registered definition a `_` for them.
    function translate(key, args) {
        var def = RED.nodes.getType(type);
        return def._(ns + key, args);
    }

    function text(v) {
        return (v === undefined || v === null) ? "" : String(v).trim();
    }

    return {
        TYPES: ["str", "msg", "flow", "global", "env"],
        NUM_TYPES: ["num", "msg", "flow", "global", "env"],
        translate: translate,
        text: text,

        // Validates a TypedInput value against the type chosen in the open dialog (or the stored
        // type). numCheck (optional) validates the value when the type is "num".
        typedRule: function(typeField, labelKey, defaultType, numCheck) {
            return function(v, opt) {
                var t = $("#node-input-" + typeField).val() || this[typeField] || defaultType || "str";
                var s = text(v);
                var field = translate("label." + labelKey);
                if (t === "env") {
                    return s !== "" ? true : translate("validation.env", { field: field });
                }
                if (t === "msg" || t === "flow" || t === "global") {
                    return (s !== "" && RED.utils.validatePropertyExpression(s) === true) ? true :
                        translate("validation.property", { field: field });
                }
                if (t === "num" && numCheck) {
                    return numCheck(s);
                }
                return true;
            };
        },

        // Turns the dialog's input for `prop` into a TypedInput whose type goes to `<prop>Type`.
        typedInput: function(prop, types, defaultType) {
            $("#node-input-" + prop).typedInput({
                default: defaultType,
                types: types,
                typeField: $("#node-input-" + prop + "Type")
            });
        },

        // Palette, node and port labels from the node's catalogue.
        paletteLabel: function() {
            return this._(ns + "paletteLabel");
        },
        label: function() {
            return this.name || this._(ns + "label.default");
        },
        labelStyle: function() {
            return this.name ? "node_label_italic" : "";
        },
        inputLabels: function() {
            return this._(ns + "label.input");
        },
        outputLabels: function() {
            return this._(ns + "label.output");
        }
    };
}
