"""The knowledge base's tables, and its search index: on SQLite the FTS5 table kb_fts (with a
trigger that forgets a deleted article), on PostgreSQL the GIN index of kb_articledocument (added
through the database only, as SQLite cannot build it). Frozen copies of kb.search_index's DDL."""

import django.contrib.postgres.indexes
import django.contrib.postgres.search
import django.db.models.deletion
import django.utils.timezone
import tessera.kb.models
from django.conf import settings
from django.db import migrations, models


FTS5_CREATE = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS kb_fts USING fts5("
    "title, body, tokenize = 'unicode61 remove_diacritics 0')"
)
FTS5_TRIGGER = (
    "CREATE TRIGGER IF NOT EXISTS kb_article_deleted AFTER DELETE ON kb_article "
    "BEGIN DELETE FROM kb_fts WHERE rowid = old.id; END"
)


def create_fts5(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(FTS5_CREATE)
        schema_editor.execute(FTS5_TRIGGER)


def drop_fts5(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS kb_article_deleted")
        schema_editor.execute("DROP TABLE IF EXISTS kb_fts")


def _gin():
    return django.contrib.postgres.indexes.GinIndex(fields=["document"], name="kb_document_gin")


def create_gin(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.add_index(apps.get_model("kb", "ArticleDocument"), _gin())


def drop_gin(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.remove_index(apps.get_model("kb", "ArticleDocument"), _gin())


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('tickets', '0017_reopen_window_satisfaction_event'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='Article',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('title', models.CharField(max_length=200, verbose_name='title')),
                ('slug', models.SlugField(max_length=220, unique=True, verbose_name='address')),
                ('body', models.TextField(verbose_name='text (Markdown)')),
                ('body_html', models.TextField(default='', editable=False)),
                ('body_text', models.TextField(default='', editable=False)),
                ('is_public', models.BooleanField(default=True, verbose_name='public')),
                ('featured', models.BooleanField(default=False, verbose_name='featured')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='created')),
                ('updated_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='updated')),
                ('view_count', models.PositiveIntegerField(default=0, verbose_name='views')),
                ('helpful_yes', models.PositiveIntegerField(default=0, verbose_name='answered the question')),
                ('helpful_no', models.PositiveIntegerField(default=0, verbose_name='did not answer')),
                ('deflections', models.PositiveIntegerField(default=0, verbose_name='tickets not needed')),
                ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='created by')),
                ('topics', models.ManyToManyField(blank=True, related_name='+', to='tickets.helptopic', verbose_name='related help topics')),
                ('updated_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='updated by')),
            ],
            options={
                'verbose_name': 'knowledge-base article',
                'verbose_name_plural': 'knowledge-base articles',
                'ordering': ['title', 'pk'],
            },
        ),
        migrations.CreateModel(
            name='DeflectionDay',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField(unique=True, verbose_name='day')),
                ('count', models.PositiveIntegerField(default=0, verbose_name='tickets not needed')),
            ],
            options={
                'verbose_name': 'deflections on a day',
                'verbose_name_plural': 'deflections per day',
                'ordering': ['-day'],
            },
        ),
        migrations.CreateModel(
            name='ArticleAttachment',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('file', models.FileField(max_length=300, upload_to=tessera.kb.models.article_file_path, verbose_name='file')),
                ('name', models.CharField(max_length=255, verbose_name='name')),
                ('size', models.PositiveBigIntegerField(verbose_name='size')),
                ('content_type', models.CharField(max_length=120, verbose_name='content type')),
                ('sha256', models.CharField(max_length=64)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('article', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='attachments', to='kb.article', verbose_name='article')),
            ],
            options={
                'verbose_name': 'article file',
                'verbose_name_plural': 'article files',
                'ordering': ['name', 'pk'],
            },
        ),
        migrations.CreateModel(
            name='ArticleVersion',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('title', models.CharField(max_length=200, verbose_name='title')),
                ('body', models.TextField(verbose_name='text (Markdown)')),
                ('written_at', models.DateTimeField(verbose_name='written')),
                ('article', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='versions', to='kb.article')),
                ('editor', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='written by')),
            ],
            options={
                'verbose_name': 'article version',
                'verbose_name_plural': 'article versions',
                'ordering': ['-written_at', '-pk'],
            },
        ),
        migrations.CreateModel(
            name='Category',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=120, verbose_name='name')),
                ('slug', models.SlugField(max_length=140, unique=True, verbose_name='address')),
                ('description', models.TextField(blank=True, default='', verbose_name='description')),
                ('is_public', models.BooleanField(default=True, verbose_name='public')),
                ('order', models.PositiveIntegerField(default=0, verbose_name='order')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='created')),
                ('parent', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='children', to='kb.category', verbose_name='parent category')),
            ],
            options={
                'verbose_name': 'knowledge-base category',
                'verbose_name_plural': 'knowledge-base categories',
                'ordering': ['order', 'name', 'pk'],
            },
        ),
        migrations.AddField(
            model_name='article',
            name='category',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='articles', to='kb.category', verbose_name='category'),
        ),
        migrations.CreateModel(
            name='ArticleDocument',
            fields=[
                ('article', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='search_document', serialize=False, to='kb.article')),
                ('document', django.contrib.postgres.search.SearchVectorField(null=True)),
            ],
            options={
                'verbose_name': 'article search document',
                'verbose_name_plural': 'article search documents',
            },
        ),
        migrations.AddIndex(
            model_name='article',
            index=models.Index(fields=['is_public', 'featured'], name='kb_article_public_featured'),
        ),
        migrations.RunPython(create_fts5, drop_fts5, elidable=False),
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AddIndex(model_name="articledocument", index=_gin())],
            database_operations=[migrations.RunPython(create_gin, drop_gin, elidable=False)],
        ),
    ]
