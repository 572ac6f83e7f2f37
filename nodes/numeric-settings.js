// Shared by the dialogs with numeric settings: the build puts this file in place of the include
// line of each .html that uses it, and the runtime's table of defaults and ranges
// (src/nodes/common/limits.ts) in place of the marker line below, as NUMERIC_SETTINGS.
// @numeric-settings

// Defaults and validators for the numeric settings of node `type`. The check is the runtime's
// (settingValue in limits.ts): missing means the default; otherwise a number, or a string holding
// one, within the range (whole if required), or the value that switches the limit off.
// message(name, args) gives the node's text for a refused value; args hold min and max.
function numericSettings(type, message) {
    var table = NUMERIC_SETTINGS[type];

    function format(n) {
        return n.toLocaleString("en-US", { maximumFractionDigits: 6 });
    }

    function accepts(s, v) {
        if (v === undefined || v === null) { return true; }
        var n;
        if (typeof v === "number") {
            n = v;
        } else if (typeof v === "string" && v.trim() !== "") {
            n = Number(v.trim());
        } else {
            return false;
        }
        if (!isFinite(n)) { return false; }
        if (s.off !== undefined && n === s.off) { return true; }
        return n >= s.min && n <= s.max && (!s.integer || Math.floor(n) === n);
    }

    return {
        // The `defaults` entry of setting `name`: its default value and its validator.
        field: function(name) {
            var s = table[name];
            return {
                value: s.default,
                validate: function(v, opt) {
                    return accepts(s, v) ? true : message(name, { min: format(s.min), max: format(s.max) });
                }
            };
        }
    };
}
