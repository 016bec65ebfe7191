-- Originals and copies (原件/複印件, issue 17): "歸檔的文件材料應為原件…複印件須註明原因". A
-- file is an original unless it is marked a copy, and a copy carries the reason it is filed.
alter table record_files add column copy boolean not null default false;
alter table record_files add column copy_note text;
alter table record_files add constraint record_files_copy_note_check
    check (copy = (copy_note is not null));
