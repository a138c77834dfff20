import { defaultKeymap, history, historyKeymap } from '@codemirror/commands';
import { yaml } from '@codemirror/lang-yaml';
import { bracketMatching, indentOnInput, syntaxHighlighting } from '@codemirror/language';
import { lintGutter, setDiagnostics, type Diagnostic as CmDiagnostic } from '@codemirror/lint';
import { Compartment, EditorState, type Text } from '@codemirror/state';
import { EditorView, highlightActiveLine, highlightActiveLineGutter, keymap, lineNumbers } from '@codemirror/view';
import { classHighlighter } from '@lezer/highlight';
import { forwardRef, useEffect, useImperativeHandle, useRef } from 'react';
import type { Diagnostic } from '../api/types';

export interface YamlEditorHandle {
  goTo: (line: number, column: number) => void;
}

interface YamlEditorProps {
  value: string;
  onChange: (text: string) => void;
  readOnly: boolean;
  diagnostics: Diagnostic[];
  language: 'yaml' | 'lua';
  label: string;
}

/** The span a line:column diagnostic marks: from the column to the end of the word there. */
export function diagnosticRange(doc: Text, line: number, column: number): { from: number; to: number } {
  if (line < 1 || line > doc.lines) {
    const first = doc.line(1);
    return { from: first.from, to: first.to };
  }
  const l = doc.line(line);
  const from = Math.min(l.to, l.from + Math.max(0, column - 1));
  const rest = l.text.slice(from - l.from);
  const word = /^[^\s:,[\]{}]+/.exec(rest)?.[0].length ?? 0;
  return { from, to: word > 0 ? from + word : l.to > from ? l.to : from };
}

function toCmDiagnostics(doc: Text, diagnostics: Diagnostic[]): CmDiagnostic[] {
  return diagnostics.map((d) => {
    const { from, to } = diagnosticRange(doc, d.line, d.column);
    return {
      from,
      to,
      severity: 'error',
      message: d.suggestion ? `${d.message} (did you mean ${d.suggestion}?)` : d.message,
    };
  });
}

export const YamlEditor = forwardRef<YamlEditorHandle, YamlEditorProps>(function YamlEditor(
  { value, onChange, readOnly, diagnostics, language, label },
  ref,
) {
  const hostRef = useRef<HTMLDivElement>(null);
  const viewRef = useRef<EditorView | null>(null);
  const onChangeRef = useRef(onChange);
  onChangeRef.current = onChange;
  const readOnlyCompartment = useRef(new Compartment());

  useEffect(() => {
    const host = hostRef.current;
    if (!host) return;
    const view = new EditorView({
      parent: host,
      state: EditorState.create({
        doc: value,
        extensions: [
          lineNumbers(),
          highlightActiveLineGutter(),
          highlightActiveLine(),
          history(),
          indentOnInput(),
          bracketMatching(),
          syntaxHighlighting(classHighlighter),
          language === 'yaml' ? yaml() : [],
          lintGutter(),
          keymap.of([...defaultKeymap, ...historyKeymap]),
          EditorView.lineWrapping,
          EditorView.contentAttributes.of({ 'aria-label': label }),
          readOnlyCompartment.current.of([EditorState.readOnly.of(readOnly), EditorView.editable.of(!readOnly)]),
          EditorView.updateListener.of((update) => {
            if (update.docChanged) onChangeRef.current(update.state.doc.toString());
          }),
        ],
      }),
    });
    viewRef.current = view;
    return () => {
      view.destroy();
      viewRef.current = null;
    };
    // The editor is made once; later value changes from outside are applied below.
  }, [language]);

  useEffect(() => {
    const view = viewRef.current;
    if (!view) return;
    const current = view.state.doc.toString();
    if (current !== value) view.dispatch({ changes: { from: 0, to: current.length, insert: value } });
  }, [value]);

  useEffect(() => {
    viewRef.current?.dispatch({
      effects: readOnlyCompartment.current.reconfigure([EditorState.readOnly.of(readOnly), EditorView.editable.of(!readOnly)]),
    });
  }, [readOnly]);

  useEffect(() => {
    const view = viewRef.current;
    if (!view) return;
    view.dispatch(setDiagnostics(view.state, toCmDiagnostics(view.state.doc, diagnostics)));
  }, [diagnostics, value]);

  useImperativeHandle(ref, () => ({
    goTo: (line, column) => {
      const view = viewRef.current;
      if (!view) return;
      const { from } = diagnosticRange(view.state.doc, line, column);
      view.dispatch({ selection: { anchor: from }, scrollIntoView: true });
      view.focus();
    },
  }));

  return <div className="editor" ref={hostRef} />;
});
