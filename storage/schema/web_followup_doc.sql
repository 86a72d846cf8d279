-- web_followup_doc.sql
-- A follow-up question as the API shows it, in the full report and in the answer to
-- asking one.
CREATE OR REPLACE FUNCTION web_followup_doc(f followups) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT json_build_object('id', f.id, 'question', f.question, 'asked_by', f.asked_by,
                             'asked_at', web_iso(f.asked_at), 'relayed_at', web_iso(f.relayed_at),
                             'relay_error', f.relay_error, 'answer', f.answer,
                             'answered_at', web_iso(f.answered_at))
$$;
