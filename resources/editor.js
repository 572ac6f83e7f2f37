// What the editor files of this package share. Node-RED (1.3 and later) serves the package's
// resources/ folder, and each node's .html loads this file and limits.js (the runtime's table of
// numeric settings, written by the build) with <script src="resources/@labelops/node-red-playment/…">.
// The editor may run the two in either order, and once per .html: both only add to one namespace.
(function () {
  'use strict';
  var ns = (window.PlaymentEditor = window.PlaymentEditor || {});

  // Node-RED's validator of a TypedInput value, by the type chosen in the open dialog (or the
  // stored type). A blank value is valid with any type: the runtime then fills the field from
  // the message (src/nodes/common/resolve.ts).
  ns.typedValidator = function (typeField) {
    // Node-RED 3.1.1 added the options form (and validateTypedProperty with it).
    if (typeof RED.utils.validateTypedProperty === 'function') {
      return RED.validators.typedInput({ typeField: typeField, allowBlank: true });
    }
    // Node-RED 3.1.0 takes only the type field's name, and refuses a blank msg property.
    var check = RED.validators.typedInput(typeField);
    return function (v, opt) {
      return v === '' ? true : check.call(this, v, opt);
    };
  };

  // Labels, translations and TypedInputs of one of the three action nodes.
  ns.actionEditor = function (type) {
    var prefix = type + '.';
    return {
      TYPES: ['str', 'msg', 'flow', 'global', 'env'],
      NUM_TYPES: ['num', 'msg', 'flow', 'global', 'env'],

      // This node's translations: Node-RED gives the registered definition a `_` for them.
      translate: function (key, args) {
        return RED.nodes.getType(type)._(prefix + key, args);
      },

      // Turns the dialog's input for `prop` into a TypedInput whose type goes to `<prop>Type`.
      typedInput: function (prop, types, defaultType) {
        $('#node-input-' + prop).typedInput({
          default: defaultType,
          types: types,
          typeField: $('#node-input-' + prop + 'Type'),
        });
      },

      paletteLabel: function () {
        return this._(prefix + 'paletteLabel');
      },
      label: function () {
        return this.name || this._(prefix + 'label.default');
      },
      labelStyle: function () {
        return this.name ? 'node_label_italic' : '';
      },
      inputLabels: function () {
        return this._(prefix + 'label.input');
      },
      outputLabels: function () {
        return this._(prefix + 'label.output');
      },
    };
  };

  // Defaults and validators of node `type`'s numeric settings, from limits.js. The check is the
  // runtime's (settingValue in src/nodes/common/limits.ts): missing means the default;
  // otherwise a number, or a string holding one, within the range (whole if required), or the
  // value that switches the limit off. message(name, {min, max}) is the text for a refused value.
  ns.numericSettings = function (type, message) {
    function format(n) {
      return n.toLocaleString('en-US', { maximumFractionDigits: 6 });
    }

    function accepts(s, v) {
      if (v === undefined || v === null) {
        return true;
      }
      var n;
      if (typeof v === 'number') {
        n = v;
      } else if (typeof v === 'string' && v.trim() !== '') {
        n = Number(v.trim());
      } else {
        return false;
      }
      if (!isFinite(n)) {
        return false;
      }
      if (s.off !== undefined && n === s.off) {
        return true;
      }
      return n >= s.min && n <= s.max && (!s.integer || Math.floor(n) === n);
    }

    var table = ns.NUMERIC_SETTINGS[type];
    return {
      // The setting's range: {min, max, ...}.
      range: function (name) {
        return table[name];
      },
      // The `defaults` entry of setting `name`: its default value and its validator.
      field: function (name) {
        var s = table[name];
        return {
          value: s.default,
          validate: function (v) {
            return accepts(s, v) ? true : message(name, { min: format(s.min), max: format(s.max) });
          },
        };
      },
    };
  };
})();
