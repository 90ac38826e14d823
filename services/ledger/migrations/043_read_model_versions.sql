-- The version of its rules each read model was built under. A read model whose rules change (a release that
-- makes it count, resolve or list differently) declares a higher `version`; when the ledger's background
-- process starts and finds a stored version other than the code's, it rebuilds that read model from position 0,
-- so an upgrade never leaves rows made under the old rules beside rows made under the new.
CREATE TABLE read_model_versions (
  name        text        PRIMARY KEY,
  version     integer     NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE read_model_versions IS 'Per read model, the version of its rules its rows were built under (读模型规则版本); a differing version in the code makes the ledger rebuild it from position 0 at start.';
GRANT SELECT, INSERT, UPDATE, DELETE ON read_model_versions TO cadre_writer;
GRANT SELECT ON read_model_versions TO cadre_reader;
-- The read models built before this migration were built under the first version of their rules.
INSERT INTO read_model_versions (name, version) SELECT name, 1 FROM projection_checkpoints;
