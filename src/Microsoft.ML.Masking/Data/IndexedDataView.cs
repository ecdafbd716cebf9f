using Microsoft.ML.Data;

namespace Microsoft.ML.Masking.Data;

/// <summary>
/// A read-only <see cref="IDataView"/> whose rows are addressed by index: row <c>i</c> is whatever
/// <c>fetch(i)</c> returns, and each column reads its value from that row object. Cursors fetch a row once
/// however many columns they read, and only when some active column needs it, so a generated data set
/// (the shapes) renders each image once per visit and an in-memory one (IDX) costs nothing to cursor.
/// <c>fetch</c> must be a pure, thread-safe function of the index; that makes shuffled and parallel
/// cursors free and every pass identical.
/// </summary>
internal sealed class IndexedDataView<TRow> : IDataView
{
    private readonly long _rowCount;
    private readonly Func<long, TRow> _fetch;
    private readonly IndexedColumn<TRow>[] _columns;

    public IndexedDataView(long rowCount, Func<long, TRow> fetch, IEnumerable<IndexedColumn<TRow>> columns)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rowCount);
        _rowCount = rowCount;
        _fetch = fetch;
        _columns = columns.ToArray();
        var builder = new DataViewSchema.Builder();
        foreach (var column in _columns)
            builder.AddColumn(column.Name, column.Type, column.Annotations);
        Schema = builder.ToSchema();
    }

    public DataViewSchema Schema { get; }

    public bool CanShuffle => true;

    public long? GetRowCount() => _rowCount;

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        var active = new bool[_columns.Length];
        foreach (var column in columnsNeeded)
            active[column.Index] = true;
        return new Cursor(this, active, rand is null ? null : Permutation(rand));
    }

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        [GetRowCursor(columnsNeeded, rand)];

    private long[] Permutation(Random rand)
    {
        var order = new long[_rowCount];
        for (long i = 0; i < order.LongLength; i++)
            order[i] = i;
        rand.Shuffle(order);
        return order;
    }

    private sealed class Cursor : DataViewRowCursor
    {
        private readonly IndexedDataView<TRow> _view;
        private readonly bool[] _active;
        private readonly long[]? _order;
        private readonly Delegate?[] _getters;
        private long _position = -1;
        private long _fetchedPosition = -1;
        private TRow _row = default!;

        public Cursor(IndexedDataView<TRow> view, bool[] active, long[]? order)
        {
            _view = view;
            _active = active;
            _order = order;
            _getters = new Delegate?[view._columns.Length];
            for (int i = 0; i < _getters.Length; i++)
                if (active[i])
                    _getters[i] = view._columns[i].CreateGetter(CurrentRow);
        }

        public override DataViewSchema Schema => _view.Schema;

        public override long Position => _position;

        public override long Batch => 0;

        private long RowIndex => _order is null ? _position : _order[_position];

        private TRow CurrentRow()
        {
            if (_position < 0 || _position >= _view._rowCount)
                throw new InvalidOperationException("The cursor is not on a row; call MoveNext first.");
            if (_fetchedPosition != _position)
            {
                _row = _view._fetch(RowIndex);
                _fetchedPosition = _position;
            }
            return _row;
        }

        public override bool MoveNext()
        {
            if (_position >= _view._rowCount)
                return false;
            _position++;
            return _position < _view._rowCount;
        }

        public override bool IsColumnActive(DataViewSchema.Column column) => _active[column.Index];

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (column.Index < 0 || column.Index >= _getters.Length || Schema[column.Index].Name != column.Name)
                throw new ArgumentOutOfRangeException(nameof(column), $"Column '{column.Name}' is not part of this data view.");
            if (_getters[column.Index] is not { } getter)
                throw new InvalidOperationException($"Column '{column.Name}' was not requested when the cursor was created.");
            return getter as ValueGetter<TValue>
                ?? throw new InvalidOperationException($"Column '{column.Name}' holds {column.Type}, not {typeof(TValue).Name}.");
        }

        public override ValueGetter<DataViewRowId> GetIdGetter() =>
            (ref DataViewRowId id) => id = new DataViewRowId((ulong)RowIndex, 0);
    }
}
